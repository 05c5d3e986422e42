package jwtv_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	jwtv "github.com/jwtv/jwtv/bindings/go"
)

// docs/parity.json lists every field of the policy document and the Config
// field that sets it (or why Go does not offer it). Each named Config field,
// set alone, must write its field to the document, and every Config field
// must be named.
func TestParity(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "parity.json"))
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("docs/parity.json does not exist: no table of policy fields to check Config against")
	}
	if err != nil {
		t.Fatal(err)
	}
	var table struct {
		Fields map[string]struct {
			Go       *string `json:"go"`
			WhyNotGo string  `json:"why_not_go"`
		} `json:"fields"`
	}
	if err := json.Unmarshal(data, &table); err != nil {
		t.Fatalf("docs/parity.json: %v", err)
	}
	if len(table.Fields) == 0 {
		t.Fatal(`docs/parity.json: no "fields"`)
	}
	named := map[string]bool{}
	config := reflect.TypeOf(jwtv.Config{})
	for path, f := range table.Fields {
		if f.Go == nil {
			if f.WhyNotGo == "" {
				t.Errorf("%s: neither a Go field nor why_not_go", path)
			}
			continue
		}
		field, ok := config.FieldByName(*f.Go)
		if !ok || field.Name == "PolicyFile" {
			t.Errorf("%s: Config has no field %q", path, *f.Go)
			continue
		}
		named[field.Name] = true
		var cfg jwtv.Config
		reflect.ValueOf(&cfg).Elem().FieldByIndex(field.Index).Set(nonZero(field.Type))
		doc, err := json.Marshal(cfg)
		if err != nil {
			t.Errorf("%s: Config.%s: %v", path, field.Name, err)
			continue
		}
		var value any
		if err := json.Unmarshal(doc, &value); err != nil {
			t.Fatal(err)
		}
		for _, step := range strings.Split(path, ".") {
			object, _ := value.(map[string]any)
			value = object[step]
		}
		if value == nil {
			t.Errorf("Config.%s does not set %s: %s", field.Name, path, doc)
		}
	}
	for i := 0; i < config.NumField(); i++ {
		if name := config.Field(i).Name; name != "PolicyFile" && !named[name] {
			t.Errorf("Config.%s is not in docs/parity.json", name)
		}
	}
}

// nonZero is a value of type t that is not the zero value, with every
// field of a struct set; bytes are "{}" (a JWKS must be JSON).
func nonZero(t reflect.Type) reflect.Value {
	v := reflect.New(t).Elem()
	switch {
	case t == reflect.TypeOf(time.Duration(0)):
		v.SetInt(int64(time.Minute))
	case t.Kind() == reflect.String:
		v.SetString("x")
	case t.Kind() == reflect.Bool:
		v.SetBool(true)
	case t.Kind() == reflect.Int:
		v.SetInt(60)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		v.SetBytes([]byte("{}"))
	case t.Kind() == reflect.Slice:
		v = reflect.Append(v, nonZero(t.Elem()))
	case t.Kind() == reflect.Interface: // a required claim value: a string will do
		v.Set(reflect.ValueOf("x"))
	case t.Kind() == reflect.Map:
		v = reflect.MakeMap(t)
		v.SetMapIndex(nonZero(t.Key()), nonZero(t.Elem()))
	case t.Kind() == reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			v.Field(i).Set(nonZero(t.Field(i).Type))
		}
	default:
		panic("nonZero: no value for " + t.String())
	}
	return v
}

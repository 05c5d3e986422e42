/* Tests of libjwtv through its C header: every function, the bad-argument
 * paths, policies built field by field, and verification from many threads
 * on one shared verifier.
 *
 * Usage: test_jwtv EXAMPLES_DIR   (the repository's examples/ folder)
 * Run by run.sh under ASan/UBSan and under valgrind memcheck. */

#define _POSIX_C_SOURCE 200809L /* mkdtemp, rmdir, unlink, clock_gettime */

#include "jwtv.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int failures = 0;
static const char *examples = ".";

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            failures++;                                                      \
        }                                                                    \
    } while (0)

#define CHECK_STATUS(expr, want)                                                \
    do {                                                                        \
        jwtv_status got_ = (expr);                                              \
        if (got_ != (want)) {                                                   \
            fprintf(stderr, "%s:%d: %s gave %s, want %s\n", __FILE__, __LINE__, \
                    #expr, jwtv_error_name(got_), jwtv_error_name(want));       \
            failures++;                                                         \
        }                                                                       \
    } while (0)

/* `text` contains `part`. */
#define CHECK_CONTAINS(text, part)                                                           \
    do {                                                                                     \
        if (strstr((text), (part)) == NULL) {                                                \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, \
                    (text), (part));                                                         \
            failures++;                                                                      \
        }                                                                                    \
    } while (0)

/* `text` begins with `start` (an error message with the field it names). */
#define CHECK_STARTS(text, start)                                                         \
    do {                                                                                  \
        if (strncmp((text), (start), strlen(start)) != 0) {                               \
            fprintf(stderr, "%s:%d: \"%s\" does not begin with \"%s\"\n", __FILE__, __LINE__, \
                    (text), (start));                                                     \
            failures++;                                                                   \
        }                                                                                 \
    } while (0)

/* Reads examples/<name> into a NUL-terminated heap buffer; trailing
 * whitespace is cut. */
static char *read_example(const char *name, size_t *len_out) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", examples, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)size + 1);
    if (!data) exit(2);
    size_t n = fread(data, 1, (size_t)size, f);
    fclose(f);
    while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r' || data[n - 1] == ' ')) n--;
    data[n] = '\0';
    if (len_out) *len_out = n;
    return data;
}

static char *example_path(const char *name) {
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", examples, name);
    return path;
}

/* The policy document, NUL-terminated in a heap buffer the caller frees. */
static char *policy_json(const jwtv_policy *policy) {
    size_t len = 0;
    CHECK_STATUS(jwtv_policy_to_json(policy, NULL, 0, &len), JWTV_BUFFER_TOO_SMALL);
    char *json = malloc(len + 1);
    if (!json) exit(2);
    json[0] = '\0';
    CHECK_STATUS(jwtv_policy_to_json(policy, json, len + 1, NULL), JWTV_OK);
    return json;
}

/* `change`, a call on `policy` that writes its message to `err`, is refused
 * with JWTV_CONFIG_ERROR and a message beginning with `field` (the field's
 * path and ": "), and leaves the policy document as it was. */
#define CHECK_REFUSED(policy, change, field)                                                     \
    do {                                                                                         \
        char *before_ = policy_json(policy);                                                     \
        err[0] = '\0';                                                                           \
        CHECK_STATUS(change, JWTV_CONFIG_ERROR);                                                 \
        CHECK_STARTS(err, field);                                                                \
        char *after_ = policy_json(policy);                                                      \
        if (strcmp(before_, after_) != 0) {                                                      \
            fprintf(stderr, "%s:%d: %s changed the policy:\n  before %s\n  after  %s\n", __FILE__, \
                    __LINE__, #change, before_, after_);                                         \
            failures++;                                                                          \
        }                                                                                        \
        free(before_);                                                                           \
        free(after_);                                                                            \
    } while (0)

/* A verifier over examples/jwks.json for the example issuer and audience,
 * its policy built field by field with each kind of setter. */
static jwtv_verifier *example_verifier(size_t cache) {
    jwtv_policy *policy = NULL;
    jwtv_verifier *verifier = NULL;
    char err[256] = "", number[32];
    CHECK_STATUS(jwtv_policy_new(&policy), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set_string(policy, "keys.jwks_file", example_path("jwks.json"), err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_add_string(policy, "algorithms", "ES256", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_add_string(policy, "algorithms", "EdDSA", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_add_string(policy, "algorithms", "RS256", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_add_string(policy, "issuers", "https://issuer.example", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_add_string(policy, "audiences", "api", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set_string(policy, "typ", "JWT", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set(policy, "leeway_secs", "30", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set(policy, "required_claims", "[\"sub\"]", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set(policy, "max_token_len", "8192", err, sizeof err), JWTV_OK);
    snprintf(number, sizeof number, "%zu", cache);
    CHECK_STATUS(jwtv_policy_set(policy, "token_cache_size", number, err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_check(policy, err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, err, sizeof err), JWTV_OK);
    if (err[0] != '\0') fprintf(stderr, "example_verifier: %s\n", err);
    jwtv_policy_free(policy);
    CHECK(verifier != NULL);
    return verifier;
}

/* A policy for the HS256 test tokens: examples/keys/test-hs256.secret under
 * kid test-hs256, audience api. */
static jwtv_policy *hs256_policy(void) {
    jwtv_policy *policy = NULL;
    char err[256] = "";
    size_t secret_len = 0;
    char *secret = read_example("keys/test-hs256.secret", &secret_len);
    CHECK_STATUS(jwtv_policy_new(&policy), JWTV_OK);
    CHECK_STATUS(jwtv_policy_add_string(policy, "algorithms", "HS256", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_add_hmac_secret(policy, (const uint8_t *)secret, secret_len, "HS256", "test-hs256", err,
                                             sizeof err),
                 JWTV_OK);
    CHECK_STATUS(jwtv_policy_add_string(policy, "audiences", "api", err, sizeof err), JWTV_OK);
    free(secret);
    return policy;
}

/* The header's version is the library's; a failed constructor leaves its
 * handle NULL, whatever it held. */
static void test_version_and_failed_handles(void) {
    char header_version[32];
    snprintf(header_version, sizeof header_version, "%d.%d.%d", JWTV_VERSION_MAJOR, JWTV_VERSION_MINOR,
             JWTV_VERSION_PATCH);
    CHECK(strcmp(jwtv_version(), header_version) == 0);

    int sentinel;
    jwtv_policy *policy = (jwtv_policy *)&sentinel;
    jwtv_verifier *verifier = (jwtv_verifier *)&sentinel;
    CHECK_STATUS(jwtv_policy_from_file("/nonexistent/policy.json", &policy, NULL, 0), JWTV_CONFIG_ERROR);
    CHECK(policy == NULL);
    CHECK_STATUS(jwtv_verifier_from_policy_file("/nonexistent/policy.json", &verifier, NULL, 0), JWTV_CONFIG_ERROR);
    CHECK(verifier == NULL);
}

static void test_error_names(void) {
    CHECK(strcmp(jwtv_error_name(JWTV_OK), "ok") == 0);
    CHECK(strcmp(jwtv_error_name(JWTV_EXPIRED), "expired") == 0);
    CHECK(strcmp(jwtv_error_name(JWTV_UNSUPPORTED_CRIT), "unsupported_crit") == 0);
    CHECK(JWTV_REVOKED == 17);
    CHECK(strcmp(jwtv_error_name(17), "revoked") == 0);
    CHECK(strcmp(jwtv_error_name(JWTV_BUFFER_TOO_SMALL), "buffer_too_small") == 0);
    CHECK(strcmp(jwtv_error_name(JWTV_CONFIG_ERROR), "config_error") == 0);
    CHECK(strcmp(jwtv_error_name(12345), "internal_error") == 0);
    CHECK(strcmp(jwtv_error_message(JWTV_EXPIRED), "the token has expired") == 0);
    for (uint32_t s = 0; s < 256; s++) {
        CHECK(jwtv_error_name(s) != NULL && jwtv_error_message(s) != NULL);
    }
}

static void test_policy_arguments(void) {
    jwtv_policy *policy = NULL;
    jwtv_verifier *verifier = NULL;
    char err[256] = "";
    const uint8_t *key = (const uint8_t *)"0123456789abcdef0123456789abcdef";

    /* NULL handles and outputs. */
    CHECK_STATUS(jwtv_policy_new(NULL), JWTV_NULL_ARGUMENT);
    jwtv_policy_free(NULL);
    jwtv_verifier_free(NULL);
    jwtv_token_free(NULL);
    CHECK_STATUS(jwtv_policy_set(NULL, "leeway_secs", "60", err, sizeof err), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_policy_set_string(NULL, "typ", "JWT", err, sizeof err), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_policy_add_string(NULL, "algorithms", "ES256", err, sizeof err), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_policy_set_member(NULL, "required_claim_values", "a", "b", err, sizeof err), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_policy_add_pem_key(NULL, (const uint8_t *)"x", 1, "RS256", NULL, err, sizeof err),
                 JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_policy_add_hmac_secret(NULL, key, 32, "HS256", NULL, err, sizeof err), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_policy_set_jwks(NULL, (const uint8_t *)"{}", 2, err, sizeof err), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_policy_check(NULL, err, sizeof err), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_policy_to_json(NULL, err, sizeof err, NULL), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_verifier_from_policy(NULL, 0, &verifier, err, sizeof err), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_policy_from_json(NULL, 5, NULL, &policy, err, sizeof err), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_policy_from_json((const uint8_t *)"{}", 2, NULL, NULL, err, sizeof err), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_policy_from_file(NULL, &policy, err, sizeof err), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_policy_from_file(example_path("policy.json"), NULL, err, sizeof err), JWTV_NULL_ARGUMENT);
    CHECK(policy == NULL);

    CHECK_STATUS(jwtv_policy_new(&policy), JWTV_OK);
    CHECK(policy != NULL);
    CHECK_STATUS(jwtv_policy_add_string(policy, "algorithms", NULL, err, sizeof err), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_policy_add_string(policy, NULL, "ES256", err, sizeof err), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_policy_set(policy, "leeway_secs", NULL, err, sizeof err), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_policy_set(policy, NULL, "60", err, sizeof err), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_policy_set_string(policy, "typ", NULL, err, sizeof err), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_policy_set_member(policy, "required_claim_values", NULL, "acme", err, sizeof err),
                 JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_policy_set_member(policy, "required_claim_values", "tenant", NULL, err, sizeof err),
                 JWTV_NULL_ARGUMENT);

    /* Text must be UTF-8. */
    CHECK_STATUS(jwtv_policy_add_string(policy, "issuers", "\xff\xfe", err, sizeof err), JWTV_INVALID_UTF8);
    CHECK_STATUS(jwtv_policy_set_string(policy, "typ", "\xff", err, sizeof err), JWTV_INVALID_UTF8);
    CHECK_STATUS(jwtv_policy_set(policy, "\xff", "1", err, sizeof err), JWTV_INVALID_UTF8);
    CHECK_STATUS(jwtv_policy_add_pem_key(policy, (const uint8_t *)"\xff\xfe", 2, "RS256", NULL, err, sizeof err),
                 JWTV_INVALID_UTF8);

    /* Algorithm names: in the list a policy error naming the entry, as a
     * document would give; bound to a key, an invalid argument. */
    CHECK_REFUSED(policy, jwtv_policy_add_string(policy, "algorithms", "none", err, sizeof err),
                  "algorithms[0]: unknown algorithm `none`");
    CHECK_REFUSED(policy, jwtv_policy_add_string(policy, "algorithms", "ES521", err, sizeof err),
                  "algorithms[0]: unknown algorithm `ES521`");
    CHECK_STATUS(jwtv_policy_add_hmac_secret(policy, key, 32, "none", NULL, err, sizeof err), JWTV_INVALID_ARGUMENT);
    CHECK_STATUS(jwtv_policy_add_pem_key(policy, (const uint8_t *)"x", 1, "RS1", NULL, err, sizeof err),
                 JWTV_INVALID_ARGUMENT);
    CHECK_CONTAINS(err, "unknown algorithm `RS1`");
    CHECK_STATUS(jwtv_policy_add_pem_key(policy, (const uint8_t *)"x", 1, NULL, NULL, err, sizeof err),
                 JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_policy_add_pem_key(policy, NULL, 5, "RS256", NULL, err, sizeof err), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_policy_add_hmac_secret(policy, NULL, 32, "HS256", NULL, err, sizeof err), JWTV_NULL_ARGUMENT);

    CHECK_REFUSED(policy, jwtv_policy_set(policy, "max_token_len", "0", err, sizeof err), "max_token_len: ");
    CHECK_STATUS(jwtv_policy_set_jwks(policy, NULL, 10, err, sizeof err), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_policy_set_jwks(policy, (const uint8_t *)"x", SIZE_MAX, err, sizeof err), JWTV_INVALID_ARGUMENT);
    CHECK_REFUSED(policy, jwtv_policy_set_jwks(policy, NULL, 0, err, sizeof err), "keys.jwks: ");

    /* An incomplete policy is fine to build, not to make a verifier from:
     * the message says what is missing, and *out is left alone. */
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, err, sizeof err), JWTV_CONFIG_ERROR);
    CHECK_STARTS(err, "keys: missing: name a key source");
    CHECK(verifier == NULL);
    CHECK_STATUS(jwtv_policy_check(policy, err, sizeof err), JWTV_CONFIG_ERROR);
    CHECK_STARTS(err, "algorithms: name at least one algorithm");
    size_t secret_len = 0;
    char *secret = read_example("keys/test-hs256.secret", &secret_len);
    CHECK_STATUS(jwtv_policy_add_hmac_secret(policy, (const uint8_t *)secret, secret_len, "HS256", "test-hs256", err,
                                             sizeof err),
                 JWTV_OK);
    free(secret);
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, err, sizeof err), JWTV_CONFIG_ERROR);
    CHECK_STARTS(err, "algorithms: name at least one algorithm");
    CHECK(verifier == NULL);
    /* A tiny error buffer gets a truncated, NUL-terminated message. */
    char tiny[8];
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, tiny, sizeof tiny), JWTV_CONFIG_ERROR);
    CHECK(strlen(tiny) == 7);
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, NULL, 0), JWTV_CONFIG_ERROR);
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, NULL, err, sizeof err), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 2, &verifier, err, sizeof err), JWTV_INVALID_ARGUMENT);
    CHECK_CONTAINS(err, "unknown flags");
    CHECK(verifier == NULL);

    /* Short HMAC secrets and private PEM keys are refused, naming the entry. */
    CHECK_REFUSED(policy, jwtv_policy_add_hmac_secret(policy, (const uint8_t *)"short", 5, "HS256", NULL, err, sizeof err),
                  "keys.secrets[1]: ");
    size_t pem_len = 0;
    char *private_pem = read_example("keys/test-es256.pem", &pem_len);
    CHECK_REFUSED(policy,
                  jwtv_policy_add_pem_key(policy, (const uint8_t *)private_pem, pem_len, "ES256", "k", err, sizeof err),
                  "keys.pem[0]: ");
    free(private_pem);

    /* A JWKS file as well as static keys: refused at once, with a message. */
    CHECK_REFUSED(policy, jwtv_policy_set_string(policy, "keys.jwks_file", example_path("jwks.json"), err, sizeof err),
                  "keys: name one key source");

    /* Complete now: a verifier, and the HS256 example token is verified
     * once the audience is set. */
    CHECK_STATUS(jwtv_policy_add_string(policy, "algorithms", "HS256", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_check(policy, err, sizeof err), JWTV_OK);
    size_t token_len = 0;
    char *t = read_example("tokens/valid-hs256.jwt", &token_len);
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)t, token_len, 0, NULL, NULL, 0), JWTV_BAD_AUDIENCE);
    jwtv_verifier_free(verifier);
    verifier = NULL;
    CHECK_STATUS(jwtv_policy_add_string(policy, "audiences", "api", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)t, token_len, 0, NULL, NULL, 0), JWTV_OK);
    jwtv_verifier_free(verifier);
    verifier = NULL;
    free(t);

    /* An in-memory JWKS replaces the static keys; static keys cannot then be added. */
    size_t jwks_len = 0;
    char *jwks = read_example("hs256-jwks.json", &jwks_len);
    CHECK_STATUS(jwtv_policy_set_jwks(policy, (const uint8_t *)jwks, jwks_len, err, sizeof err), JWTV_OK);
    free(jwks);
    char *json = policy_json(policy);
    CHECK_CONTAINS(json, "\"keys\":{\"jwks\":");
    CHECK(strstr(json, "\"secrets\"") == NULL);
    free(json);
    CHECK_REFUSED(policy, jwtv_policy_add_hmac_secret(policy, key, 32, "HS256", NULL, err, sizeof err),
                  "keys.secrets[0]: static keys cannot be combined with a JWKS source");
    jwtv_policy_free(policy);

    /* A JWKS URL that is not http(s): a well-formed document, refused by
     * the check and when making the verifier. */
    CHECK_STATUS(jwtv_policy_new(&policy), JWTV_OK);
    CHECK_STATUS(jwtv_policy_add_string(policy, "algorithms", "ES256", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set_string(policy, "keys.jwks_url", "ftp://issuer.example/jwks", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_check(policy, err, sizeof err), JWTV_CONFIG_ERROR);
    CHECK_STARTS(err, "keys.jwks_url: ");
    CHECK_CONTAINS(err, "scheme");
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, err, sizeof err), JWTV_CONFIG_ERROR);
    CHECK_CONTAINS(err, "scheme");
    CHECK(verifier == NULL);
    jwtv_policy_free(policy);
}

/* Fields set by their path read back through jwtv_policy_to_json; refused
 * changes name the field and leave the policy as it was. */
static void test_policy_fields(void) {
    jwtv_policy *policy = NULL;
    char err[512] = "", value[64];
    char *json;

    CHECK_STATUS(jwtv_policy_new(&policy), JWTV_OK);
    json = policy_json(policy);
    CHECK_CONTAINS(json, "\"algorithms\":[]");
    CHECK_CONTAINS(json, "\"leeway_secs\":30"); /* the defaults are written out */
    CHECK_CONTAINS(json, "\"typ\":null");
    CHECK(strstr(json, "\"keys\"") == NULL);
    free(json);

    /* The buffer contract of jwtv_token_claim_string. */
    size_t len = 0, needed = 0;
    CHECK_STATUS(jwtv_policy_to_json(policy, NULL, 0, &needed), JWTV_BUFFER_TOO_SMALL);
    char *buf = malloc(needed + 1);
    if (!buf) exit(2);
    CHECK_STATUS(jwtv_policy_to_json(policy, buf, needed, &len), JWTV_BUFFER_TOO_SMALL);
    CHECK(len == needed);
    CHECK_STATUS(jwtv_policy_to_json(policy, buf, needed + 1, &len), JWTV_OK);
    CHECK(len == needed && strlen(buf) == len && buf[0] == '{' && buf[len - 1] == '}');
    free(buf);

    /* Set by path, read back. */
    CHECK_STATUS(jwtv_policy_set(policy, "leeway_secs", "60", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set(policy, "refresh.max_stale_secs", "3600", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set(policy, "require_exp", "false", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set(policy, "max_age_secs", "600", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set(policy, "issuers", "[\"https://a.example\",\"https://b.example\"]", err, sizeof err),
                 JWTV_OK);
    CHECK_STATUS(jwtv_policy_add_string(policy, "issuers", "https://c.example", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_add_string(policy, "algorithms", "EdDSA", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_add_string(policy, "algorithms", "ES256", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_add_string(policy, "understood_crit", "exp-ext", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set_member(policy, "required_claim_values", "tenant", "acme", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set_member(policy, "required_claim_values", "plan", "gold", err, sizeof err), JWTV_OK);
    /* set_string quotes and escapes the text itself. */
    CHECK_STATUS(jwtv_policy_set_string(policy, "typ", "at+jwt \"v2\"\\", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set(policy, "revocations", "{\"source\":\"revoked.json\",\"fail_closed\":true}", err,
                                 sizeof err),
                 JWTV_OK);
    CHECK_STATUS(jwtv_policy_set(policy, "revocations.max_staleness_secs", "120", err, sizeof err), JWTV_OK);
    json = policy_json(policy);
    CHECK_CONTAINS(json, "\"leeway_secs\":60");
    CHECK_CONTAINS(json, "\"max_stale_secs\":3600");
    CHECK_CONTAINS(json, "\"require_exp\":false");
    CHECK_CONTAINS(json, "\"max_age_secs\":600");
    CHECK_CONTAINS(json, "\"issuers\":[\"https://a.example\",\"https://b.example\",\"https://c.example\"]");
    CHECK_CONTAINS(json, "\"algorithms\":[\"ES256\",\"EdDSA\"]");
    CHECK_CONTAINS(json, "\"understood_crit\":[\"exp-ext\"]");
    CHECK_CONTAINS(json, "\"required_claim_values\":{");
    CHECK_CONTAINS(json, "\"tenant\":\"acme\"");
    CHECK_CONTAINS(json, "\"plan\":\"gold\"");
    CHECK_CONTAINS(json, "\"typ\":\"at+jwt \\\"v2\\\"\\\\\"");
    CHECK_CONTAINS(json, "\"source\":\"revoked.json\"");
    CHECK_CONTAINS(json, "\"fail_closed\":true");
    CHECK_CONTAINS(json, "\"max_staleness_secs\":120");
    free(json);
    CHECK_STATUS(jwtv_policy_set(policy, "typ", "null", err, sizeof err), JWTV_OK);
    json = policy_json(policy);
    CHECK_CONTAINS(json, "\"typ\":null");
    free(json);

    /* Refused: the message names the field, the policy is unchanged. */
    CHECK_REFUSED(policy, jwtv_policy_set(policy, "leeway_secs", "\"60\"", err, sizeof err), "leeway_secs: invalid type");
    CHECK_REFUSED(policy, jwtv_policy_set(policy, "leeway_secs", "sixty", err, sizeof err),
                  "leeway_secs: not a JSON value");
    CHECK_REFUSED(policy, jwtv_policy_set(policy, "leeway_secs", "-1", err, sizeof err), "leeway_secs: ");
    CHECK_REFUSED(policy, jwtv_policy_set(policy, "leeway_secs.x", "1", err, sizeof err), "leeway_secs.x: ");
    CHECK_REFUSED(policy, jwtv_policy_set(policy, "refresh.ttl", "1", err, sizeof err),
                  "refresh.ttl: unknown field `ttl`");
    CHECK_REFUSED(policy, jwtv_policy_set(policy, "no_such_field", "1", err, sizeof err),
                  "no_such_field: unknown field `no_such_field`");
    CHECK_REFUSED(policy, jwtv_policy_set(policy, "refresh.min_ttl_secs", "90000", err, sizeof err),
                  "refresh.min_ttl_secs: ");
    CHECK_REFUSED(policy, jwtv_policy_set(policy, "algorithms", "[\"ES256\",\"none\"]", err, sizeof err),
                  "algorithms[1]: unknown algorithm `none`");
    CHECK_REFUSED(policy, jwtv_policy_add_string(policy, "algorithms", "none", err, sizeof err),
                  "algorithms[2]: unknown algorithm `none`");
    CHECK_REFUSED(policy, jwtv_policy_set(policy, "keys.jwks_url", "1", err, sizeof err), "keys.jwks_url: ");
    CHECK_REFUSED(policy, jwtv_policy_set(policy, "revocations.max_staleness_secs", "0", err, sizeof err),
                  "revocations.max_staleness_secs: ");
    CHECK_REFUSED(policy, jwtv_policy_set_member(policy, "required_claim_values", "tenant", "other", err, sizeof err),
                  "required_claim_values: duplicate name `tenant`");
    CHECK_REFUSED(policy, jwtv_policy_set_member(policy, "issuers", "a", "b", err, sizeof err), "issuers: ");
    CHECK_REFUSED(policy, jwtv_policy_add_string(policy, "leeway_secs", "1", err, sizeof err), "leeway_secs: ");
    CHECK_REFUSED(policy, jwtv_policy_set_string(policy, "issuers", "https://a.example", err, sizeof err),
                  "issuers: ");
    CHECK_STATUS(jwtv_policy_set(policy, "", "1", err, sizeof err), JWTV_CONFIG_ERROR);
    CHECK_CONTAINS(err, "not a field path");
    CHECK_STATUS(jwtv_policy_add_string(policy, "audiences", "api", err, sizeof err), JWTV_OK);
    CHECK_REFUSED(policy, jwtv_policy_set(policy, "ignore_audience", "true", err, sizeof err), "ignore_audience: ");
    /* The leeway is bounded by JWTV_MAX_LEEWAY_SECS. */
    snprintf(value, sizeof value, "%d", JWTV_MAX_LEEWAY_SECS + 1);
    CHECK_REFUSED(policy, jwtv_policy_set(policy, "leeway_secs", value, err, sizeof err), "leeway_secs: at most 300 s");
    snprintf(value, sizeof value, "%d", JWTV_MAX_LEEWAY_SECS);
    CHECK_STATUS(jwtv_policy_set(policy, "leeway_secs", value, err, sizeof err), JWTV_OK);
    json = policy_json(policy);
    CHECK_CONTAINS(json, "\"leeway_secs\":300");
    free(json);
    jwtv_policy_free(policy);

    /* revocations.* needs revocations.source first. */
    CHECK_STATUS(jwtv_policy_new(&policy), JWTV_OK);
    CHECK_REFUSED(policy, jwtv_policy_set(policy, "revocations.fail_closed", "true", err, sizeof err),
                  "revocations: missing field `source`");
    jwtv_policy_free(policy);

    /* Every list holds JWTV_MAX_LIST_LEN entries; the next is refused,
     * naming the list, and nothing is dropped. */
    static const char *const lists[] = {"issuers", "audiences", "required_claims", "understood_crit",
                                        "required_claim_values"};
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        int is_map = strcmp(lists[l], "required_claim_values") == 0;
        char want[96];
        CHECK_STATUS(jwtv_policy_new(&policy), JWTV_OK);
        for (int i = 0; i < JWTV_MAX_LIST_LEN; i++) {
            snprintf(value, sizeof value, "entry-%d", i);
            CHECK_STATUS(is_map ? jwtv_policy_set_member(policy, lists[l], value, "v", err, sizeof err)
                                : jwtv_policy_add_string(policy, lists[l], value, err, sizeof err),
                         JWTV_OK);
        }
        snprintf(want, sizeof want, "%s: at most %d entries (%d given)", lists[l], JWTV_MAX_LIST_LEN,
                 JWTV_MAX_LIST_LEN + 1);
        if (is_map) {
            CHECK_REFUSED(policy, jwtv_policy_set_member(policy, lists[l], "one-too-many", "v", err, sizeof err), want);
        } else {
            CHECK_REFUSED(policy, jwtv_policy_add_string(policy, lists[l], "one-too-many", err, sizeof err), want);
        }
        json = policy_json(policy);
        snprintf(value, sizeof value, "entry-%d", JWTV_MAX_LIST_LEN - 1);
        CHECK_CONTAINS(json, value);
        CHECK(strstr(json, "one-too-many") == NULL);
        free(json);
        jwtv_policy_free(policy);
    }
    /* A whole list past the bound, set at once. */
    CHECK_STATUS(jwtv_policy_new(&policy), JWTV_OK);
    char list[1024] = "[";
    for (int i = 0; i <= JWTV_MAX_LIST_LEN; i++) {
        snprintf(value, sizeof value, "%s\"c%d\"", i ? "," : "", i);
        strcat(list, value);
    }
    strcat(list, "]");
    CHECK_REFUSED(policy, jwtv_policy_set(policy, "required_claims", list, err, sizeof err),
                  "required_claims: at most 32 entries (33 given)");
    jwtv_policy_free(policy);

    /* A document read whole gives the same errors as the setters. */
    const char *too_lenient = "{\"keys\":{\"jwks_file\":\"jwks.json\"},\"algorithms\":[\"EdDSA\"],\"leeway_secs\":301}";
    policy = NULL;
    CHECK_STATUS(jwtv_policy_from_json((const uint8_t *)too_lenient, strlen(too_lenient), examples, &policy, err,
                                       sizeof err),
                 JWTV_CONFIG_ERROR);
    CHECK_STARTS(err, "leeway_secs: at most 300 s");
    CHECK(policy == NULL);
}

static void test_verify_and_read_claims(void) {
    jwtv_verifier *verifier = example_verifier(0);
    jwtv_token *token = NULL;
    char buf[256], detail[64];
    size_t len = 0;

    size_t token_len = 0;
    char *valid = read_example("tokens/valid-es256.jwt", &token_len);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)valid, token_len, 0, &token, detail, sizeof detail), JWTV_OK);
    CHECK(token != NULL);
    CHECK(strcmp(jwtv_token_alg(token), "ES256") == 0);
    CHECK(jwtv_token_alg(NULL) == NULL);

    CHECK_STATUS(jwtv_token_claim_string(token, "sub", buf, sizeof buf, &len), JWTV_OK);
    CHECK(strlen(buf) == len && len > 0);
    /* Too small: the needed length is reported. */
    size_t needed = 0;
    CHECK_STATUS(jwtv_token_claim_string(token, "iss", buf, 4, &needed), JWTV_BUFFER_TOO_SMALL);
    CHECK(needed == strlen("https://issuer.example"));
    CHECK_STATUS(jwtv_token_claim_string(token, "iss", NULL, 0, &needed), JWTV_BUFFER_TOO_SMALL);
    CHECK_STATUS(jwtv_token_claim_string(token, "iss", buf, needed + 1, NULL), JWTV_OK);
    CHECK(strcmp(buf, "https://issuer.example") == 0);
    CHECK_STATUS(jwtv_token_claim_string(token, "exp", buf, sizeof buf, &len), JWTV_WRONG_TYPE);
    CHECK_STATUS(jwtv_token_claim_string(token, "no-such-claim", buf, sizeof buf, &len), JWTV_NOT_FOUND);
    CHECK_STATUS(jwtv_token_claim_string(token, NULL, buf, sizeof buf, &len), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_token_claim_string(NULL, "sub", buf, sizeof buf, &len), JWTV_NULL_ARGUMENT);

    int64_t exp = 0;
    CHECK_STATUS(jwtv_token_claim_int64(token, "exp", &exp), JWTV_OK);
    CHECK(exp > 4000000000LL);
    CHECK_STATUS(jwtv_token_claim_int64(token, "sub", &exp), JWTV_WRONG_TYPE);
    CHECK_STATUS(jwtv_token_claim_int64(token, "exp", NULL), JWTV_NULL_ARGUMENT);

    CHECK_STATUS(jwtv_token_claim_json(token, "aud", buf, sizeof buf, &len), JWTV_OK);
    CHECK(buf[0] == '[' || buf[0] == '"');

    size_t audiences = 0;
    CHECK_STATUS(jwtv_token_audience_count(token, &audiences), JWTV_OK);
    CHECK(audiences >= 1);
    CHECK_STATUS(jwtv_token_audience(token, 0, buf, sizeof buf, &len), JWTV_OK);
    CHECK(strcmp(buf, "api") == 0);
    CHECK_STATUS(jwtv_token_audience(token, audiences, buf, sizeof buf, &len), JWTV_NOT_FOUND);

    CHECK_STATUS(jwtv_token_header_string(token, "kid", buf, sizeof buf, &len), JWTV_OK);
    CHECK(strcmp(buf, "test-es256") == 0);
    CHECK_STATUS(jwtv_token_header_string(token, "jku", buf, sizeof buf, &len), JWTV_NOT_FOUND);

    const uint8_t *json = NULL;
    CHECK_STATUS(jwtv_token_claims_json(token, &json, &len), JWTV_OK);
    CHECK(json != NULL && len > 2 && json[0] == '{' && json[len - 1] == '}');
    CHECK_STATUS(jwtv_token_header_json(token, &json, &len), JWTV_OK);
    CHECK(json != NULL && memchr(json, 'E', len) != NULL);
    CHECK_STATUS(jwtv_token_header_json(token, NULL, &len), JWTV_NULL_ARGUMENT);
    jwtv_token_free(token);

    /* Verification without asking for the token. */
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)valid, token_len, 0, NULL, NULL, 0), JWTV_OK);

    /* A maximum lifetime: the example token lives from 2026 to 2100. */
    {
        jwtv_policy *policy = NULL;
        jwtv_verifier *short_lived = NULL;
        char err[256] = "";
        CHECK_STATUS(jwtv_policy_from_file(example_path("policy.json"), &policy, err, sizeof err), JWTV_OK);
        CHECK_STATUS(jwtv_policy_set(policy, "max_lifetime_secs", "86400", err, sizeof err), JWTV_OK);
        CHECK_REFUSED(policy, jwtv_policy_set(policy, "max_lifetime_secs", "0", err, sizeof err),
                      "max_lifetime_secs: must be positive");
        CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &short_lived, err, sizeof err), JWTV_OK);
        CHECK_STATUS(jwtv_verifier_verify(short_lived, (const uint8_t *)valid, token_len, 0, NULL, NULL, 0),
                     JWTV_LIFETIME_TOO_LONG);
        CHECK(strcmp(jwtv_error_name(JWTV_LIFETIME_TOO_LONG), "lifetime_too_long") == 0);
        jwtv_verifier_free(short_lived);
        jwtv_policy_free(policy);
    }
    free(valid);

    struct {
        const char *file;
        jwtv_status want;
        const char *detail;
    } rejected[] = {
        {"tokens/expired-es256.jwt", JWTV_EXPIRED, ""},
        {"tokens/wrong-aud-es256.jwt", JWTV_BAD_AUDIENCE, ""},
        {"tokens/wrong-key-es256.jwt", JWTV_BAD_SIGNATURE, ""},
        {"tokens/alg-none.jwt", JWTV_MALFORMED, "token"}, /* empty signature segment */
        {"tokens/valid-hs256.jwt", JWTV_ALG_NOT_ALLOWED, ""},
    };
    for (size_t i = 0; i < sizeof rejected / sizeof rejected[0]; i++) {
        char *t = read_example(rejected[i].file, &token_len);
        token = NULL;
        CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)t, token_len, 0, &token, detail, sizeof detail),
                     rejected[i].want);
        CHECK(token == NULL);
        if (strcmp(detail, rejected[i].detail) != 0) {
            fprintf(stderr, "%s: detail \"%s\", want \"%s\"\n", rejected[i].file, detail, rejected[i].detail);
            failures++;
        }
        free(t);
    }

    /* Bad arguments and hostile input. */
    CHECK_STATUS(jwtv_verifier_verify(NULL, (const uint8_t *)"a.b.c", 5, 0, NULL, NULL, 0), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_verifier_verify(verifier, NULL, 5, 0, NULL, NULL, 0), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_verifier_verify(verifier, NULL, 0, 0, NULL, NULL, 0), JWTV_MALFORMED);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)"a.b.c", SIZE_MAX, 0, NULL, NULL, 0),
                 JWTV_INVALID_ARGUMENT);
    const uint8_t garbage[] = {0xff, 0x00, '.', 0x80, '.', 0x01};
    CHECK_STATUS(jwtv_verifier_verify(verifier, garbage, sizeof garbage, 0, NULL, detail, sizeof detail),
                 JWTV_MALFORMED);
    char *big = malloc(9000);
    memset(big, 'a', 9000);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)big, 9000, 0, NULL, NULL, 0), JWTV_TOO_LARGE);
    free(big);

    /* Metrics count every outcome. */
    jwtv_metrics metrics;
    CHECK_STATUS(jwtv_verifier_metrics(verifier, &metrics), JWTV_OK);
    CHECK(metrics.verified == 2);
    CHECK(metrics.rejected[JWTV_EXPIRED - 1] == 1);
    CHECK(metrics.rejected[JWTV_MALFORMED - 1] == 3);
    CHECK(metrics.rejected[JWTV_TOO_LARGE - 1] == 1);
    CHECK(metrics.key_count == 3);
    CHECK(metrics.key_set_generation == 1);
    CHECK_STATUS(jwtv_verifier_metrics(verifier, NULL), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_verifier_metrics(NULL, &metrics), JWTV_NULL_ARGUMENT);

    size_t text_len = 0;
    CHECK_STATUS(jwtv_verifier_metrics_prometheus(verifier, NULL, 0, &text_len), JWTV_BUFFER_TOO_SMALL);
    char *text = malloc(text_len + 1);
    CHECK_STATUS(jwtv_verifier_metrics_prometheus(verifier, text, text_len + 1, &len), JWTV_OK);
    CHECK(len == text_len && strlen(text) == len);
    CHECK(strstr(text, "jwtv_verifications_total{result=\"expired\"} 1\n") != NULL);
    free(text);
    jwtv_verifier_free(verifier);
}

/* Several processes running one policy, shown as one: each copies its
 * verifier's snapshot (shared memory, in NGINX), one that ended is added to
 * the retired accumulator word by word, and the sum is rendered. */
static void test_snapshots_of_several_processes(void) {
    size_t len = 0, text_len = 0, token_len = 0;
    CHECK_STATUS(jwtv_snapshot_len(&len), JWTV_OK);
    CHECK(len > 100);
    uint64_t *live = calloc(2 * len, sizeof *live), *retired = calloc(len, sizeof *retired);
    uint64_t *ended = calloc(len, sizeof *ended);
    jwtv_verifier *first = example_verifier(0), *second = example_verifier(0), *gone = example_verifier(0);
    char *t = read_example("tokens/valid-es256.jwt", &token_len);
    jwtv_verifier *each[] = {first, second, second, gone, gone, gone};
    for (size_t i = 0; i < sizeof each / sizeof each[0]; i++) {
        CHECK_STATUS(jwtv_verifier_verify(each[i], (const uint8_t *)t, token_len, 0, NULL, NULL, 0), JWTV_OK);
    }
    CHECK_STATUS(jwtv_verifier_snapshot(first, live, len), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_snapshot(second, live + len, len), JWTV_OK);
    CHECK_STATUS(jwtv_snapshot_empty(retired, len), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_snapshot(gone, ended, len), JWTV_OK);
    for (size_t i = 1; i < len; i++) {
        retired[i] += ended[i];
    }
    CHECK_STATUS(jwtv_verifier_metrics_prometheus_sum(first, live, 2, len, retired, NULL, 0, &text_len),
                 JWTV_BUFFER_TOO_SMALL);
    char *text = malloc(text_len + 1);
    CHECK_STATUS(jwtv_verifier_metrics_prometheus_sum(first, live, 2, len, retired, text, text_len + 1, NULL), JWTV_OK);
    CHECK_CONTAINS(text, "jwtv_verifications_total{result=\"ok\"} 6\n");
    CHECK_CONTAINS(text, "jwtv_verification_duration_seconds_count{outcome=\"valid\"} 6\n");
    CHECK_CONTAINS(text, "jwtv_key_verifications_total{kid=\"test-es256\"} 1\n"); /* the first verifier's own */
    free(text);

    /* Lengths, layouts and pointers are checked; nothing is written on failure. */
    CHECK_STATUS(jwtv_verifier_snapshot(first, ended, len - 1), JWTV_INVALID_ARGUMENT);
    CHECK_STATUS(jwtv_verifier_snapshot(first, ended, len + 1), JWTV_INVALID_ARGUMENT);
    CHECK_STATUS(jwtv_verifier_snapshot(NULL, ended, len), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_snapshot_empty(NULL, len), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_snapshot_len(NULL), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_verifier_metrics_prometheus_sum(first, live, 0, len, NULL, NULL, 0, NULL), JWTV_INVALID_ARGUMENT);
    CHECK_STATUS(jwtv_verifier_metrics_prometheus_sum(first, live, 1, len + 1, NULL, NULL, 0, NULL),
                 JWTV_INVALID_ARGUMENT);
    CHECK_STATUS(jwtv_verifier_metrics_prometheus_sum(first, live, SIZE_MAX, len, NULL, NULL, 0, NULL),
                 JWTV_INVALID_ARGUMENT);
    CHECK_STATUS(jwtv_verifier_metrics_prometheus_sum(first, NULL, 1, len, NULL, NULL, 0, NULL), JWTV_NULL_ARGUMENT);
    live[len] ^= 1; /* the second snapshot's layout word */
    CHECK_STATUS(jwtv_verifier_metrics_prometheus_sum(first, live, 2, len, NULL, NULL, 0, NULL), JWTV_INVALID_ARGUMENT);
    free(t);
    free(live);
    free(retired);
    free(ended);
    jwtv_verifier_free(first);
    jwtv_verifier_free(second);
    jwtv_verifier_free(gone);
}

static void test_other_key_sources(void) {

    jwtv_policy *policy = NULL;
    jwtv_verifier *verifier = NULL;
    char err[256] = "";
    size_t len = 0, token_len = 0;

    /* A policy file, in one call. */
    CHECK_STATUS(jwtv_verifier_from_policy_file(example_path("policy.json"), &verifier, err, sizeof err), JWTV_OK);
    char *t = read_example("tokens/valid-eddsa.jwt", &token_len);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)t, token_len, 0, NULL, NULL, 0), JWTV_OK);
    jwtv_verifier_free(verifier);
    verifier = NULL;
    CHECK_STATUS(jwtv_verifier_from_policy_file(example_path("no-such-policy.json"), &verifier, err, sizeof err),
                 JWTV_CONFIG_ERROR);
    CHECK_CONTAINS(err, "no-such-policy.json");
    CHECK(verifier == NULL);
    CHECK_STATUS(jwtv_verifier_from_policy_file(NULL, &verifier, err, sizeof err), JWTV_NULL_ARGUMENT);

    /* A policy file read, changed, then made into a verifier; its document
     * reads back to the same policy. */
    CHECK_STATUS(jwtv_policy_from_file(example_path("policy.json"), &policy, err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_check(policy, err, sizeof err), JWTV_OK);
    char *json = policy_json(policy);
    CHECK_CONTAINS(json, "\"keys\":{\"jwks_file\":\"jwks.json\"}");
    CHECK_CONTAINS(json, "\"token_cache_size\":10000");
    jwtv_policy *again = NULL;
    CHECK_STATUS(jwtv_policy_from_json((const uint8_t *)json, strlen(json), examples, &again, err, sizeof err), JWTV_OK);
    char *json_again = policy_json(again);
    CHECK(strcmp(json, json_again) == 0);
    free(json_again);
    free(json);
    jwtv_policy_free(again);
    CHECK_STATUS(jwtv_policy_set(policy, "algorithms", "[\"ES256\"]", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, err, sizeof err), JWTV_OK);
    /* The verifier is independent of the policy it was made from. */
    jwtv_policy_free(policy);
    policy = NULL;
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)t, token_len, 0, NULL, NULL, 0), JWTV_ALG_NOT_ALLOWED);
    free(t);
    t = read_example("tokens/valid-es256.jwt", &token_len);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)t, token_len, 0, NULL, NULL, 0), JWTV_OK);
    free(t);
    jwtv_verifier_free(verifier);
    verifier = NULL;
    CHECK_STATUS(jwtv_policy_from_file(example_path("no-such-policy.json"), &policy, err, sizeof err),
                 JWTV_CONFIG_ERROR);
    CHECK_CONTAINS(err, "no-such-policy.json");
    CHECK(policy == NULL);

    /* A policy document in memory, checked first, paths relative to base_dir. */
    const char *document = "{\"keys\":{\"jwks_file\":\"jwks.json\"},\"algorithms\":[\"EdDSA\"],\"audiences\":[\"api\"]}";
    CHECK_STATUS(jwtv_policy_from_json((const uint8_t *)document, strlen(document), examples, &policy, err, sizeof err),
                 JWTV_OK);
    CHECK_STATUS(jwtv_policy_check(policy, err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, err, sizeof err), JWTV_OK);
    jwtv_policy_free(policy);
    policy = NULL;
    t = read_example("tokens/valid-eddsa.jwt", &token_len);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)t, token_len, 0, NULL, NULL, 0), JWTV_OK);
    jwtv_verifier_free(verifier);
    verifier = NULL;
    CHECK_STATUS(jwtv_verifier_from_policy_json((const uint8_t *)document, strlen(document), examples, &verifier, err,
                                                sizeof err),
                 JWTV_OK);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)t, token_len, 0, NULL, NULL, 0), JWTV_OK);
    free(t);
    jwtv_verifier_free(verifier);
    verifier = NULL;
    const char *bad_policy = "{\"keys\":{\"jwks_file\":\"jwks.json\"},\"algorithms\":[\"EdDSA\"],\"leeway\":1}";
    CHECK_STATUS(jwtv_policy_from_json((const uint8_t *)bad_policy, strlen(bad_policy), examples, &policy, err,
                                       sizeof err),
                 JWTV_CONFIG_ERROR);
    CHECK_CONTAINS(err, "unknown field `leeway`");
    CHECK(policy == NULL);
    const char *not_an_object = "[\"EdDSA\"]";
    CHECK_STATUS(jwtv_policy_from_json((const uint8_t *)not_an_object, strlen(not_an_object), NULL, &policy, err,
                                       sizeof err),
                 JWTV_CONFIG_ERROR);
    CHECK(policy == NULL);
    const char *missing_file = "{\"keys\":{\"jwks_file\":\"nope.json\"},\"algorithms\":[\"EdDSA\"]}";
    CHECK_STATUS(jwtv_policy_from_json((const uint8_t *)missing_file, strlen(missing_file), examples, &policy, err,
                                       sizeof err),
                 JWTV_OK); /* read, not yet opened */
    CHECK_STATUS(jwtv_policy_check(policy, err, sizeof err), JWTV_CONFIG_ERROR);
    CHECK_STARTS(err, "keys.jwks_file: ");
    CHECK_CONTAINS(err, "nope.json");
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, err, sizeof err), JWTV_CONFIG_ERROR);
    CHECK_STARTS(err, "keys.jwks_file: ");
    CHECK(verifier == NULL);
    jwtv_policy_free(policy);
    policy = NULL;
    const char *url = "{\"keys\":{\"jwks_url\":\"https://issuer.example/jwks\"},\"algorithms\":[\"ES256\"]}";
    CHECK_STATUS(jwtv_policy_from_json((const uint8_t *)url, strlen(url), NULL, &policy, err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_check(policy, err, sizeof err), JWTV_OK); /* nothing fetched */
    jwtv_policy_free(policy);
    policy = NULL;
    CHECK_STATUS(jwtv_verifier_from_policy_json((const uint8_t *)bad_policy, strlen(bad_policy), examples, &verifier,
                                                err, sizeof err),
                 JWTV_CONFIG_ERROR);
    CHECK_CONTAINS(err, "unknown field `leeway`");
    CHECK(verifier == NULL);
    CHECK_STATUS(jwtv_verifier_from_policy_json(NULL, 5, NULL, &verifier, err, sizeof err), JWTV_NULL_ARGUMENT);

    /* A JWKS in memory, read with the algorithms named so far. */
    char *jwks = read_example("hs256-jwks.json", &len);
    CHECK_STATUS(jwtv_policy_new(&policy), JWTV_OK);
    CHECK_REFUSED(policy, jwtv_policy_set_jwks(policy, (const uint8_t *)jwks, len, err, sizeof err), "keys.jwks: ");
    CHECK_STATUS(jwtv_policy_add_string(policy, "algorithms", "HS256", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_add_string(policy, "audiences", "api", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set_member(policy, "required_claim_values", "tenant", "acme", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set_jwks(policy, (const uint8_t *)jwks, len, err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, err, sizeof err), JWTV_OK);
    t = read_example("tokens/valid-hs256.jwt", &token_len);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)t, token_len, 0, NULL, NULL, 0), JWTV_OK);
    jwtv_verifier_free(verifier);
    verifier = NULL;
    jwtv_policy_free(policy);
    free(jwks);

    /* An HMAC secret; a required claim value the token does not have. */
    policy = hs256_policy();
    CHECK_STATUS(jwtv_policy_set_member(policy, "required_claim_values", "tenant", "someone-else", err, sizeof err),
                 JWTV_OK);
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, err, sizeof err), JWTV_OK);
    char detail[64];
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)t, token_len, 0, NULL, detail, sizeof detail),
                 JWTV_BAD_CLAIM);
    CHECK(strcmp(detail, "tenant") == 0);
    jwtv_verifier_free(verifier);
    verifier = NULL;
    jwtv_policy_free(policy);
    free(t);

    /* PEM public keys. */
    char *pem = read_example("keys/test-rs256.pub.pem", &len);
    CHECK_STATUS(jwtv_policy_new(&policy), JWTV_OK);
    CHECK_STATUS(jwtv_policy_add_string(policy, "algorithms", "RS256", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_add_string(policy, "audiences", "api", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_add_pem_key(policy, (const uint8_t *)pem, len, "RS256", "test-rs256", err, sizeof err),
                 JWTV_OK);
    CHECK_REFUSED(policy, jwtv_policy_add_pem_key(policy, (const uint8_t *)pem, len, "ES256", NULL, err, sizeof err),
                  "keys.pem[1]: ");
    CHECK_STATUS(jwtv_policy_check(policy, err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, err, sizeof err), JWTV_OK);
    t = read_example("tokens/valid-rs256.jwt", &token_len);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)t, token_len, 0, NULL, NULL, 0), JWTV_OK);
    /* A fixed `now` before the token's nbf: not valid yet. */
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)t, token_len, 1000, NULL, NULL, 0),
                 JWTV_NOT_YET_VALID);
    jwtv_verifier_free(verifier);
    jwtv_policy_free(policy);
    free(pem);
    free(t);
}

/* ---- a remote key set, from a host that must never wait ---- */

static double seconds_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A key server on 127.0.0.1 that accepts connections (the kernel completes
 * them) and never answers; its JWKS URL goes to `url`. Returns the socket,
 * to close when done (which resets the pending connections), or -1. */
static int silent_key_server(char *url, size_t url_cap) {
    int server = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(server >= 0);
    if (server < 0) return -1;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t addr_len = sizeof addr;
    CHECK(bind(server, (struct sockaddr *)&addr, sizeof addr) == 0);
    CHECK(listen(server, 8) == 0);
    CHECK(getsockname(server, (struct sockaddr *)&addr, &addr_len) == 0);
    snprintf(url, url_cap, "http://127.0.0.1:%u/jwks.json", (unsigned)ntohs(addr.sin_port));
    return server;
}

/* JWTV_NONBLOCKING: with a key server that accepts connections and never
 * answers, and a policy that would wait 30 s for the first fetch, making the
 * verifier and verifying return at once, with JWTV_UNAVAILABLE (detail
 * "keys"). The policy itself keeps its timeout. */
/* jwtv_policy_add_key_source: a file and the bundled HS256 set, one verifier. */
static void test_several_key_sources(void) {
    jwtv_policy *policy = NULL;
    jwtv_verifier *verifier = NULL;
    char err[256] = "", path[4096];
    size_t token_len = 0;

    CHECK_STATUS(jwtv_policy_new(&policy), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set(policy, "algorithms", "[\"ES256\",\"HS256\"]", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_add_string(policy, "audiences", "api", err, sizeof err), JWTV_OK);
    snprintf(path, sizeof path, "%s", example_path("jwks.json"));
    CHECK_STATUS(jwtv_policy_add_key_source(policy, "jwks_file", path, err, sizeof err), JWTV_OK);
    snprintf(path, sizeof path, "%s", example_path("hs256-jwks.json"));
    CHECK_STATUS(jwtv_policy_add_key_source(policy, "jwks_file", path, err, sizeof err), JWTV_OK);
    char *json = policy_json(policy);
    CHECK_CONTAINS(json, "\"sources\":[{\"jwks_file\":");
    free(json);
    CHECK_STATUS(jwtv_policy_add_key_source(policy, "jwks", path, err, sizeof err), JWTV_CONFIG_ERROR);
    CHECK_CONTAINS(err, "a key source to add is jwks_file, jwks_url or issuer_discovery");
    CHECK_STATUS(jwtv_policy_add_key_source(policy, NULL, path, err, sizeof err), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, err, sizeof err), JWTV_OK);
    const char *tokens[] = {"tokens/valid-es256.jwt", "tokens/valid-hs256.jwt"};
    for (size_t i = 0; i < 2; i++) {
        char *t = read_example(tokens[i], &token_len);
        CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)t, token_len, 0, NULL, NULL, 0), JWTV_OK);
        free(t);
    }
    jwtv_verifier_free(verifier);
    jwtv_policy_free(policy);
}

/* jwtv_verifier_record_no_token: counted, and exported. */
static void test_record_no_token(void) {
    jwtv_verifier *verifier = example_verifier(0);
    size_t len = 0;
    CHECK_STATUS(jwtv_verifier_record_no_token(verifier), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_record_no_token(NULL), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_verifier_metrics_prometheus(verifier, NULL, 0, &len), JWTV_BUFFER_TOO_SMALL);
    char *text = malloc(len + 1);
    CHECK(text != NULL);
    if (text != NULL) {
        CHECK_STATUS(jwtv_verifier_metrics_prometheus(verifier, text, len + 1, NULL), JWTV_OK);
        CHECK_CONTAINS(text, "jwtv_requests_without_token_total 1\n");
        free(text);
    }
    jwtv_verifier_free(verifier);
}

static void test_nonblocking(void) {
    jwtv_policy *policy = NULL;
    jwtv_verifier *verifier = NULL;
    char err[256] = "", url[64], detail[64] = "";

    int server = silent_key_server(url, sizeof url);
    if (server < 0) return;

    CHECK_STATUS(jwtv_policy_new(&policy), JWTV_OK);
    CHECK_STATUS(jwtv_policy_add_string(policy, "algorithms", "ES256", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set_string(policy, "keys.jwks_url", url, err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set(policy, "refresh.first_fetch_timeout_ms", "30000", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set(policy, "refresh.fetch_timeout_ms", "30000", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_check(policy, err, sizeof err), JWTV_OK);

    size_t token_len = 0;
    char *t = read_example("tokens/valid-es256.jwt", &token_len);
    double start = seconds_now();
    CHECK_STATUS(jwtv_verifier_from_policy(policy, JWTV_NONBLOCKING, &verifier, err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)t, token_len, 0, NULL, detail, sizeof detail),
                 JWTV_UNAVAILABLE);
    double waited = seconds_now() - start;
    CHECK(strcmp(detail, "keys") == 0);
    if (waited > 5.0) {
        fprintf(stderr, "%s:%d: a non-blocking verifier waited %.1f s\n", __FILE__, __LINE__, waited);
        failures++;
    }
    jwtv_metrics metrics;
    CHECK_STATUS(jwtv_verifier_metrics(verifier, &metrics), JWTV_OK);
    CHECK(metrics.key_count == 0 && metrics.key_set_generation == 0 && metrics.key_set_age_secs == UINT64_MAX);
    CHECK(metrics.rejected[JWTV_UNAVAILABLE - 1] == 1);
    char *json = policy_json(policy);
    CHECK_CONTAINS(json, "\"first_fetch_timeout_ms\":30000");
    free(json);
    free(t);
    jwtv_verifier_free(verifier);
    jwtv_policy_free(policy);
    /* Closing the socket resets the pending connection: the refresh thread's
     * fetch fails, and it sees that its verifier is gone. */
    close(server);
}

/* jwtv_verifier_wait_ready: true at once for keys that need no fetch; false
 * after the timeout, and not much later, for a key server that never
 * answers; NULL arguments refused with nothing written. */
static void test_wait_ready(void) {
    jwtv_policy *policy = NULL;
    jwtv_verifier *verifier = example_verifier(0);
    char err[256] = "", url[64];
    bool ready = false;

    double start = seconds_now();
    CHECK_STATUS(jwtv_verifier_wait_ready(verifier, 0, &ready), JWTV_OK);
    CHECK(ready);
    ready = false;
    CHECK_STATUS(jwtv_verifier_wait_ready(verifier, 60000, &ready), JWTV_OK);
    CHECK(ready);
    double waited = seconds_now() - start;
    if (waited > 5.0) {
        fprintf(stderr, "%s:%d: a key file was not ready at once (%.1f s)\n", __FILE__, __LINE__, waited);
        failures++;
    }

    /* NULL arguments: refused before any wait, *ready_out untouched. */
    CHECK_STATUS(jwtv_verifier_wait_ready(NULL, 0, &ready), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_verifier_wait_ready(NULL, 1000, NULL), JWTV_NULL_ARGUMENT);
    start = seconds_now();
    CHECK_STATUS(jwtv_verifier_wait_ready(verifier, 60000, NULL), JWTV_NULL_ARGUMENT);
    CHECK(seconds_now() - start < 5.0);
    CHECK(ready);
    jwtv_verifier_free(verifier);
    verifier = NULL;

    int server = silent_key_server(url, sizeof url);
    if (server < 0) return;
    CHECK_STATUS(jwtv_policy_new(&policy), JWTV_OK);
    CHECK_STATUS(jwtv_policy_add_string(policy, "algorithms", "ES256", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set_string(policy, "keys.jwks_url", url, err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, err, sizeof err), JWTV_OK);
    jwtv_policy_free(policy);
    ready = true;
    CHECK_STATUS(jwtv_verifier_wait_ready(verifier, 0, &ready), JWTV_OK);
    CHECK(!ready);
    ready = true;
    start = seconds_now();
    CHECK_STATUS(jwtv_verifier_wait_ready(verifier, 200, &ready), JWTV_OK);
    waited = seconds_now() - start;
    CHECK(!ready);
    if (waited < 0.15 || waited > 5.0) {
        fprintf(stderr, "%s:%d: a 200 ms wait took %.2f s\n", __FILE__, __LINE__, waited);
        failures++;
    }
    jwtv_verifier_free(verifier);
    close(server);
}

/* ---- revocation lists ---- */

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(fputs(text, f) >= 0);
    CHECK(fclose(f) == 0);
}

static void test_revocations(void) {
    char dir[] = "/tmp/jwtv-c-test-XXXXXX";
    char list[64], missing[64], err[256] = "", detail[64];
    size_t token_len = 0;
    jwtv_policy *policy = NULL;
    jwtv_verifier *verifier = NULL;
    jwtv_revocation_status rs;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(list, sizeof list, "%s/revoked.json", dir);
    snprintf(missing, sizeof missing, "%s/missing.json", dir);
    /* The example tokens' jti is example-0001; the EdDSA one is signed by test-eddsa. */
    write_file(list, "{\"jti\": {\"example-0001\": 4102444800}, \"sub\": {\"someone\": 1}, "
                     "\"kid\": {\"retired-key\": 1}}");

    /* A verifier without a list says so. */
    verifier = example_verifier(0);
    memset(&rs, 0xff, sizeof rs);
    CHECK_STATUS(jwtv_verifier_revocation_status(verifier, &rs), JWTV_OK);
    CHECK(!rs.has_list && rs.entries == 0 && rs.last_sync_unix == 0);
    CHECK_STATUS(jwtv_verifier_revocation_status(verifier, NULL), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_verifier_revocation_status(NULL, &rs), JWTV_NULL_ARGUMENT);
    jwtv_verifier_free(verifier);
    verifier = NULL;

    /* The setter's arguments. */
    CHECK_STATUS(jwtv_policy_set_string(NULL, "revocations.source", list, err, sizeof err), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_policy_new(&policy), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set_string(policy, "revocations.source", NULL, err, sizeof err), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_policy_set_string(policy, "revocations.source", "\xff\xfe", err, sizeof err), JWTV_INVALID_UTF8);
    jwtv_policy_free(policy);

    /* A policy with the list: the revoked token is refused. */
    CHECK_STATUS(jwtv_policy_new(&policy), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set_string(policy, "keys.jwks_file", example_path("jwks.json"), err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_add_string(policy, "algorithms", "ES256", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_add_string(policy, "audiences", "api", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set_string(policy, "revocations.source", list, err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_check(policy, err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, err, sizeof err), JWTV_OK);
    char *t = read_example("tokens/valid-es256.jwt", &token_len);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)t, token_len, 0, NULL, detail, sizeof detail),
                 JWTV_REVOKED);
    CHECK(strcmp(detail, "jti") == 0);
    CHECK_STATUS(jwtv_verifier_revocation_status(verifier, &rs), JWTV_OK);
    CHECK(rs.has_list && rs.connected && rs.synced && !rs.fail_closed);
    CHECK(rs.entries == 3 && rs.jti == 1 && rs.sub == 1 && rs.kid == 1);
    CHECK(rs.sync_errors == 0 && rs.last_sync_unix > 1700000000u && rs.sync_lag_secs < 60);
    jwtv_metrics metrics;
    CHECK_STATUS(jwtv_verifier_metrics(verifier, &metrics), JWTV_OK);
    CHECK(metrics.rejected[JWTV_REVOKED - 1] == 1);
    size_t text_len = 0;
    CHECK_STATUS(jwtv_verifier_metrics_prometheus(verifier, NULL, 0, &text_len), JWTV_BUFFER_TOO_SMALL);
    char *text = malloc(text_len + 1);
    if (!text) exit(2);
    CHECK_STATUS(jwtv_verifier_metrics_prometheus(verifier, text, text_len + 1, NULL), JWTV_OK);
    CHECK_CONTAINS(text, "jwtv_verifications_total{result=\"revoked\"} 1\n");
    CHECK_CONTAINS(text, "jwtv_revocations{kind=\"jti\"} 1\n");
    CHECK_CONTAINS(text, "jwtv_revocations_sync_lag_seconds ");
    free(text);
    jwtv_verifier_free(verifier);
    verifier = NULL;

    /* Failing closed, set by path once the source is named. */
    CHECK_STATUS(jwtv_policy_set(policy, "revocations.fail_closed", "true", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set(policy, "revocations.max_staleness_secs", "3600", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_revocation_status(verifier, &rs), JWTV_OK);
    CHECK(rs.has_list && rs.synced && rs.fail_closed);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)t, token_len, 0, NULL, detail, sizeof detail),
                 JWTV_REVOKED);
    jwtv_verifier_free(verifier);
    verifier = NULL;
    free(t);

    /* Bad sources: JWTV_CONFIG_ERROR naming revocations.source, from the
     * check and when making the verifier. */
    CHECK_STATUS(jwtv_policy_set_string(policy, "revocations.source", missing, err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_check(policy, err, sizeof err), JWTV_CONFIG_ERROR);
    CHECK_STARTS(err, "revocations.source: ");
    CHECK_CONTAINS(err, "missing.json");
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, err, sizeof err), JWTV_CONFIG_ERROR);
    CHECK(verifier == NULL);
    CHECK_STARTS(err, "revocations.source: ");
    CHECK_CONTAINS(err, "missing.json");
    CHECK_STATUS(jwtv_policy_set_string(policy, "revocations.source", "https://revocations.example/list", err,
                                        sizeof err),
                 JWTV_OK);
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, err, sizeof err), JWTV_CONFIG_ERROR);
    CHECK_CONTAINS(err, "unsupported scheme");
    write_file(missing, "{\"jti\": []}");
    CHECK_STATUS(jwtv_policy_set_string(policy, "revocations.source", missing, err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, err, sizeof err), JWTV_CONFIG_ERROR);
    CHECK_CONTAINS(err, "invalid revocation list");
    CHECK(verifier == NULL);
    jwtv_policy_free(policy);
    policy = NULL;

    /* A policy document names the list too; the check reads it. */
    char document[512];
    const char *document_format = "{\"keys\":{\"jwks_file\":\"jwks.json\"},\"algorithms\":[\"EdDSA\"],"
                                  "\"audiences\":[\"api\"],\"revocations\":{\"source\":\"%s\"}}";
    snprintf(document, sizeof document, document_format, "no-such-revocations.json");
    CHECK_STATUS(jwtv_policy_from_json((const uint8_t *)document, strlen(document), examples, &policy, err, sizeof err),
                 JWTV_OK);
    CHECK_STATUS(jwtv_policy_check(policy, err, sizeof err), JWTV_CONFIG_ERROR);
    CHECK_STARTS(err, "revocations.source: ");
    CHECK_CONTAINS(err, "no-such-revocations.json");
    /* Fixed in place by path. */
    CHECK_STATUS(jwtv_policy_set_string(policy, "revocations.source", list, err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_check(policy, err, sizeof err), JWTV_OK);
    jwtv_policy_free(policy);
    policy = NULL;
    snprintf(document, sizeof document, document_format, list);
    CHECK_STATUS(jwtv_verifier_from_policy_json((const uint8_t *)document, strlen(document), examples, &verifier, err,
                                                sizeof err),
                 JWTV_OK);
    t = read_example("tokens/valid-eddsa.jwt", &token_len);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)t, token_len, 0, NULL, NULL, 0), JWTV_REVOKED);
    free(t);
    CHECK_STATUS(jwtv_verifier_revocation_status(verifier, &rs), JWTV_OK);
    CHECK(rs.has_list && rs.entries == 3);
    jwtv_verifier_free(verifier);

    CHECK(unlink(list) == 0 && unlink(missing) == 0 && rmdir(dir) == 0);
}

/* ---- many threads, one verifier ---- */

enum { THREADS = 8, ROUNDS = 400 };

struct job {
    jwtv_verifier *verifier;
    const char *tokens[3];
    size_t lens[3];
    int failures;
};

static void *verify_many(void *arg) {
    struct job *job = arg;
    char sub[64];
    for (int i = 0; i < ROUNDS; i++) {
        jwtv_token *token = NULL;
        int k = i % 3;
        if (jwtv_verifier_verify(job->verifier, (const uint8_t *)job->tokens[k], job->lens[k], 0, &token, NULL, 0) !=
            JWTV_OK) {
            job->failures++;
            continue;
        }
        if (jwtv_token_claim_string(token, "sub", sub, sizeof sub, NULL) != JWTV_OK) job->failures++;
        jwtv_token_free(token);
    }
    return NULL;
}

static void test_threads(void) {
    jwtv_verifier *verifier = example_verifier(100);
    const char *files[3] = {"tokens/valid-es256.jwt", "tokens/valid-eddsa.jwt", "tokens/valid-rs256.jwt"};
    char *tokens[3];
    size_t lens[3];
    for (int k = 0; k < 3; k++) tokens[k] = read_example(files[k], &lens[k]);

    pthread_t threads[THREADS];
    struct job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (struct job){verifier, {tokens[0], tokens[1], tokens[2]}, {lens[0], lens[1], lens[2]}, 0};
        CHECK(pthread_create(&threads[i], NULL, verify_many, &jobs[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        CHECK(jobs[i].failures == 0);
    }
    jwtv_metrics metrics;
    CHECK_STATUS(jwtv_verifier_metrics(verifier, &metrics), JWTV_OK);
    CHECK(metrics.verified == THREADS * ROUNDS);
    CHECK(metrics.cache_hits + metrics.cache_misses == THREADS * ROUNDS);
    CHECK(metrics.cache_entries == 3);
    for (int k = 0; k < 3; k++) free(tokens[k]);
    jwtv_verifier_free(verifier);
}

/* jwtv_token_claim_int64 rounds every number down and refuses exponents.
 * Regression (found by the ffi fuzz target's claim_int64 check): a negative
 * number with a zero fraction was one too low (-1.0 gave -2), a negative
 * fraction above -1 was not rounded down (-0.5 gave 0), an exponent after a
 * fraction was ignored (1.5e3 gave 1), and the floor of
 * -9223372036854775808.5 overflowed. The token is HS256-signed with
 * examples/keys/test-hs256.secret; its claims:
 * {"iss":"https://issuer.example","aud":"api","sub":"user-1","exp":4102444800,
 *  "a":-1.0,"b":-0.5,"c":1.5e3,"d":-9223372036854775808.5,
 *  "e":-9223372036854775808,"f":9223372036854775807.9,"g":-2.25} */
static void test_claim_int64_rounding(void) {
    static const char token_text[] =
        "eyJhbGciOiJIUzI1NiIsImtpZCI6InRlc3QtaHMyNTYifQ."
        "eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwic3ViIjoidXNlci0xIiwiZXhwIjo0MTAyNDQ0ODAwLCJh"
        "IjotMS4wLCJiIjotMC41LCJjIjoxLjVlMywiZCI6LTkyMjMzNzIwMzY4NTQ3NzU4MDguNSwiZSI6LTkyMjMzNzIwMzY4NTQ3NzU4MDgs"
        "ImYiOjkyMjMzNzIwMzY4NTQ3NzU4MDcuOSwiZyI6LTIuMjV9."
        "h5H5F1W5a2lzP5W2O-7dpkGx_I9gg2pWHUBqJQafsy4";
    jwtv_policy *policy = hs256_policy();
    jwtv_verifier *verifier = NULL;
    jwtv_token *token = NULL;
    char err[256] = "";
    CHECK_STATUS(jwtv_policy_add_string(policy, "issuers", "https://issuer.example", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, NULL, 0), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)token_text, strlen(token_text), 1800000000, &token,
                                      NULL, 0),
                 JWTV_OK);
    int64_t n = 0;
    CHECK_STATUS(jwtv_token_claim_int64(token, "a", &n), JWTV_OK);
    CHECK(n == -1);
    CHECK_STATUS(jwtv_token_claim_int64(token, "b", &n), JWTV_OK);
    CHECK(n == -1);
    CHECK_STATUS(jwtv_token_claim_int64(token, "c", &n), JWTV_WRONG_TYPE);
    CHECK_STATUS(jwtv_token_claim_int64(token, "d", &n), JWTV_WRONG_TYPE);
    CHECK_STATUS(jwtv_token_claim_int64(token, "e", &n), JWTV_OK);
    CHECK(n == INT64_MIN);
    CHECK_STATUS(jwtv_token_claim_int64(token, "f", &n), JWTV_OK);
    CHECK(n == INT64_MAX);
    CHECK_STATUS(jwtv_token_claim_int64(token, "g", &n), JWTV_OK);
    CHECK(n == -3);
    jwtv_token_free(token);
    jwtv_verifier_free(verifier);
    jwtv_policy_free(policy);
}

/* A string with a NUL inside never reaches C cut short: "admin\u0000-evil"
 * would read as "admin". The accessors refuse it with JWTV_EMBEDDED_NUL and
 * write nothing; the raw JSON stays readable. HS256-signed with
 * examples/keys/test-hs256.secret; claims:
 * {"iss":"https://issuer.example","aud":["api","x\u0000y"],
 *  "sub":"admin\u0000-evil","name":"Alice","exp":4102444800} */
static void test_strings_with_nul(void) {
    static const char token_text[] =
        "eyJhbGciOiJIUzI1NiIsImtpZCI6InRlc3QtaHMyNTYifQ."
        "eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjpbImFwaSIsInhcdTAwMDB5Il0sInN1YiI6ImFkbWluXHUwMDAwLWV2"
        "aWwiLCJuYW1lIjoiQWxpY2UiLCJleHAiOjQxMDI0NDQ4MDB9."
        "LSUCrh3ZjKqifng700pc-TvOWYPVjVQJpgiL9NSlqmA";
    jwtv_policy *policy = hs256_policy();
    jwtv_verifier *verifier = NULL;
    jwtv_token *token = NULL;
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, NULL, 0), JWTV_OK);
    jwtv_policy_free(policy);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)token_text, strlen(token_text), 1800000000, &token,
                                      NULL, 0),
                 JWTV_OK);
    char buf[64];
    size_t len = 12345;
    memset(buf, 'z', sizeof buf);
    CHECK_STATUS(jwtv_token_claim_string(token, "sub", buf, sizeof buf, &len), JWTV_EMBEDDED_NUL);
    CHECK(buf[0] == 'z' && len == 12345); /* nothing written */
    CHECK(strcmp(jwtv_error_name(JWTV_EMBEDDED_NUL), "embedded_nul") == 0);
    CHECK_STATUS(jwtv_token_audience(token, 1, buf, sizeof buf, &len), JWTV_EMBEDDED_NUL);
    CHECK_STATUS(jwtv_token_audience(token, 0, buf, sizeof buf, &len), JWTV_OK);
    CHECK(strcmp(buf, "api") == 0);
    CHECK_STATUS(jwtv_token_claim_string(token, "name", buf, sizeof buf, &len), JWTV_OK);
    CHECK(strcmp(buf, "Alice") == 0 && len == 5);
    CHECK_STATUS(jwtv_token_claim_json(token, "sub", buf, sizeof buf, &len), JWTV_OK);
    CHECK(strcmp(buf, "\"admin\\u0000-evil\"") == 0);
    jwtv_token_free(token);
    jwtv_verifier_free(verifier);
}

/* Claims as text, the way NGINX Plus shows them: strings decoded, arrays
 * joined with commas, anything else as JSON; nested claims by path.
 * HS256-signed with examples/keys/test-hs256.secret; header
 * {"alg":"HS256","kid":"test-hs256","x5t#S256":"abc"}, claims:
 * {"iss":"https://issuer.example","aud":["api","reports"],"sub":"user-1",
 *  "exp":4102444800,"realm_access":{"roles":["admin","user"],"n":42},
 *  "flags":[1,true,null,{"a":"b"}],"esc":"caf\u00e9","nul":["a","b\u0000c"]} */
static void test_claims_as_text(void) {
    static const char token_text[] =
        "eyJhbGciOiJIUzI1NiIsImtpZCI6InRlc3QtaHMyNTYiLCJ4NXQjUzI1NiI6ImFiYyJ9.eyJpc3MiOiJodHRwczovL2lzc3Vlci5"
        "leGFtcGxlIiwiYXVkIjpbImFwaSIsInJlcG9ydHMiXSwic3ViIjoidXNlci0xIiwiZXhwIjo0MTAyNDQ0ODAwLCJyZWFsbV9hY2N"
        "lc3MiOnsicm9sZXMiOlsiYWRtaW4iLCJ1c2VyIl0sIm4iOjQyfSwiZmxhZ3MiOlsxLHRydWUsbnVsbCx7ImEiOiJiIn1dLCJlc2M"
        "iOiJjYWZcdTAwZTkiLCJudWwiOlsiYSIsImJcdTAwMDBjIl19.dxsjcuGXFVtmo_pltXbZmmWxSEdAjJcAPLkIJJOtdwo";
    jwtv_policy *policy = hs256_policy();
    jwtv_verifier *verifier = NULL;
    jwtv_token *token = NULL;
    char err[256] = "";
    /* Required values of any JSON type, nested claims by JSON Pointer, array members. */
    CHECK_STATUS(jwtv_policy_set_member_json(policy, "required_claim_values", "/realm_access/n", "42", err, sizeof err),
                 JWTV_OK);
    CHECK_STATUS(jwtv_policy_set_member(policy, "required_claim_values", "/realm_access/roles", "admin", err, sizeof err),
                 JWTV_OK);
    CHECK_STATUS(jwtv_policy_set_member_json(policy, "required_claim_values", "flags", "true", err, sizeof err), JWTV_OK);
    CHECK_REFUSED(policy, jwtv_policy_set_member_json(policy, "required_claim_values", "n", "4.5", err, sizeof err),
                  "required_claim_values.n: 4.5: a number must be an integer");
    CHECK_REFUSED(policy, jwtv_policy_set_member_json(policy, "required_claim_values", "n", "four", err, sizeof err),
                  "required_claim_values: `n`: not a JSON value");
    CHECK_REFUSED(policy, jwtv_policy_set_member_json(policy, "required_claim_values", "flags", "1", err, sizeof err),
                  "required_claim_values: duplicate name `flags`");
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, NULL, 0), JWTV_OK);
    jwtv_policy_free(policy);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)token_text, strlen(token_text), 1800000000, &token,
                                      NULL, 0),
                 JWTV_OK);
    struct {
        const char *path[3];
        size_t depth;
        jwtv_status want;
        const char *text;
    } cases[] = {
        {{"sub"}, 1, JWTV_OK, "user-1"},
        {{"aud"}, 1, JWTV_OK, "api,reports"},
        {{"exp"}, 1, JWTV_OK, "4102444800"},
        {{"esc"}, 1, JWTV_OK, "caf\xc3\xa9"},
        {{"flags"}, 1, JWTV_OK, "1,true,null,{\"a\":\"b\"}"},
        {{"realm_access"}, 1, JWTV_OK, "{\"roles\":[\"admin\",\"user\"],\"n\":42}"},
        {{"realm_access", "roles"}, 2, JWTV_OK, "admin,user"},
        {{"realm_access", "n"}, 2, JWTV_OK, "42"},
        {{"realm_access", "none"}, 2, JWTV_NOT_FOUND, NULL},
        {{"sub", "x"}, 2, JWTV_NOT_FOUND, NULL},        /* not an object on the way */
        {{"aud", "0"}, 2, JWTV_NOT_FOUND, NULL},        /* arrays are not walked */
        {{"no-such-claim"}, 1, JWTV_NOT_FOUND, NULL},
        {{"nul"}, 1, JWTV_EMBEDDED_NUL, NULL},
        {{"sub"}, 0, JWTV_INVALID_ARGUMENT, NULL},
        {{"realm_access", NULL}, 2, JWTV_NULL_ARGUMENT, NULL},
    };
    char buf[128];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = 12345;
        memset(buf, 'z', sizeof buf);
        jwtv_status rc = jwtv_token_claim_text(token, cases[i].path, cases[i].depth, buf, sizeof buf, &len);
        if (rc != cases[i].want) {
            fprintf(stderr, "claim_text case %zu (%s): %s, want %s\n", i, cases[i].path[0], jwtv_error_name(rc),
                    jwtv_error_name(cases[i].want));
            failures++;
        } else if (cases[i].text != NULL) {
            CHECK(strcmp(buf, cases[i].text) == 0 && len == strlen(cases[i].text));
        } else {
            CHECK(buf[0] == 'z'); /* nothing written */
        }
    }
    /* The buffer contract of jwtv_token_claim_string. */
    const char *aud[] = {"aud"};
    size_t needed = 0;
    CHECK_STATUS(jwtv_token_claim_text(token, aud, 1, NULL, 0, &needed), JWTV_BUFFER_TOO_SMALL);
    CHECK(needed == strlen("api,reports"));
    CHECK_STATUS(jwtv_token_claim_text(token, aud, 1, buf, needed, NULL), JWTV_BUFFER_TOO_SMALL);
    CHECK_STATUS(jwtv_token_claim_text(token, NULL, 1, buf, sizeof buf, NULL), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_token_claim_text(NULL, aud, 1, buf, sizeof buf, NULL), JWTV_NULL_ARGUMENT);
    /* Header parameters the same way. */
    const char *kid[] = {"kid"}, *x5t[] = {"x5t#S256"}, *kid_x[] = {"kid", "x"};
    CHECK_STATUS(jwtv_token_header_text(token, kid, 1, buf, sizeof buf, NULL), JWTV_OK);
    CHECK(strcmp(buf, "test-hs256") == 0);
    CHECK_STATUS(jwtv_token_header_text(token, x5t, 1, buf, sizeof buf, NULL), JWTV_OK);
    CHECK(strcmp(buf, "abc") == 0);
    CHECK_STATUS(jwtv_token_header_text(token, kid_x, 2, buf, sizeof buf, NULL), JWTV_NOT_FOUND);
    CHECK_STATUS(jwtv_token_header_text(token, aud, 1, buf, sizeof buf, NULL), JWTV_NOT_FOUND);
    jwtv_token_free(token);
    jwtv_verifier_free(verifier);

    /* The value differs: refused with the rule's name as the detail. */
    policy = hs256_policy();
    CHECK_STATUS(jwtv_policy_set_member_json(policy, "required_claim_values", "/realm_access/n", "43", err, sizeof err),
                 JWTV_OK);
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, NULL, 0), JWTV_OK);
    jwtv_policy_free(policy);
    char detail[64];
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)token_text, strlen(token_text), 1800000000, NULL,
                                      detail, sizeof detail),
                 JWTV_BAD_CLAIM);
    CHECK(strcmp(detail, "/realm_access/n") == 0);
    jwtv_verifier_free(verifier);
}

/* ES512 (P-521) verifies when libjwtv is built on aws-lc and is an
 * unsupported algorithm on ring (the default). The key and the token (valid
 * until 2100) are crates/jwtv/tests/vectors/es512's TEST KEY and token. */
/* State changes: none for keys from a file; the arguments checked. (A key
 * server away is one change, taken once: crates/jwtv-ffi/src/tests.rs.) */
static void test_state_changes(void) {
    jwtv_verifier *verifier = NULL;
    char err[256] = "", message[64] = "x";
    size_t len = 99;
    bool failing = true;
    CHECK_STATUS(jwtv_verifier_from_policy_file(example_path("policy.json"), &verifier, err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_take_state_change(verifier, message, sizeof message, &len, &failing), JWTV_OK);
    CHECK(len == 0 && message[0] == '\0');
    CHECK_STATUS(jwtv_verifier_take_state_change(verifier, message, sizeof message, NULL, NULL), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_take_state_change(NULL, message, sizeof message, &len, &failing), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_verifier_take_state_change(verifier, NULL, 0, &len, &failing), JWTV_BUFFER_TOO_SMALL);
    jwtv_verifier_free(verifier);
}

static void test_es512_follows_the_backend(void) {
    const char *backend = jwtv_crypto_backend();
    int aws_lc = strcmp(backend, "aws-lc") == 0;
    CHECK(aws_lc || strcmp(backend, "ring") == 0);
    const char *document = "{\"keys\":{\"jwks\":{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-521\",\"alg\":\"ES512\",\"kid\":\"test-es512\",\"x\":\"ANuUJxOMxxY7fEhOrlKjMbkc61G1BYkC87sr9iXTmZ7z1glpLG-ahfDutvyrQ-NBkr367GSJQzH95jCUwzrRTCZj\",\"y\":\"AGe5kA7fJ3Yf0tOV1I7gKlSNswFPiDddxvMICkW7V57TVENmwMSAwxTlDSHXEahsQQ8YQk5HkoJGVrpZB8PjxQQ9\"}]}},\"issuers\":[\"https://issuer.example\"],"
                           "\"audiences\":[\"api\"],\"algorithms\":[\"%s\"]}";
    const char *token = "eyJhbGciOiJFUzUxMiIsImtpZCI6InRlc3QtZXM1MTIiLCJ0eXAiOiJKV1QifQ.eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwic3ViIjoidXNlci1lczUxMiIsImlhdCI6MTY5OTk5OTk5MCwiZXhwIjo0MTAyNDQ0ODAwfQ.AMGaIAmNzLq5WkWY7k8QipVhzXEFFVVJ9wtJ8Hm1gJxZOl8PszG8z1-b4OzTm2H9bct0Cz8lSfmrxVj-xfsV_6pJAP_1G9uTmg5kN3TNU7zAyMOXyJoRx8BkyktcHyYCJ5W0vnQ1Vw7fTE7x5MrvCZcX30WuKvA4XPni9E5mbu46Kano";
    char json[1024];
    jwtv_policy *policy = NULL;
    jwtv_verifier *verifier = NULL;
    char err[256] = "";
    /* ES512 is a configuration error on ring, by name. */
    snprintf(json, sizeof json, document, "ES512");
    CHECK_STATUS(jwtv_policy_from_json((const uint8_t *)json, strlen(json), examples, &policy, err, sizeof err),
                 aws_lc ? JWTV_OK : JWTV_CONFIG_ERROR);
    if (!aws_lc) {
        CHECK_CONTAINS(err, "ES512");
        /* The P-521 key is skipped (unsupported crv), so a verifier of the
         * example keys: the token's ES512 is an unsupported algorithm. */
        const char *examples_policy = "{\"keys\":{\"jwks_file\":\"jwks.json\"},\"algorithms\":[\"ES256\"]}";
        CHECK_STATUS(jwtv_policy_from_json((const uint8_t *)examples_policy, strlen(examples_policy), examples, &policy,
                                           err, sizeof err),
                     JWTV_OK);
    }
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)token, strlen(token), 0, NULL, NULL, 0),
                 aws_lc ? JWTV_OK : JWTV_UNSUPPORTED_ALG);
    if (aws_lc) {
        /* The last four characters of the signature changed: 132 bytes are whole base64 quads. */
        char forged[1024];
        snprintf(forged, sizeof forged, "%.*sAAAA", (int)strlen(token) - 4, token);
        CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)forged, strlen(forged), 0, NULL, NULL, 0),
                     JWTV_BAD_SIGNATURE);
    }
    jwtv_verifier_free(verifier);
    jwtv_policy_free(policy);
}

/* ---- audit events of rejected tokens ---- */

/* What an audit callback saw: the number of events and copies of the last
 * one's strings; `parts` are the token's three parts, which no string may
 * hold. */
struct audit_record {
    pthread_mutex_t lock;
    int events;
    int unsafe_strings; /* strings with a control byte or a part of the token */
    jwtv_status code;
    const char *code_name;
    char *strings[6]; /* alg, kid, iss, jti, sub_hash, policy: copies, NULL when absent */
    size_t token_len;
    const char *parts[3];
    size_t part_lens[3];
};

static char *audit_copy(const char *s) {
    if (s == NULL) return NULL;
    char *copy = strdup(s);
    if (copy == NULL) exit(2);
    return copy;
}

/* `s` holds a control byte, or one of the token's parts. */
static int audit_unsafe(const struct audit_record *record, const char *s) {
    if (s == NULL) return 0;
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) return 1;
    }
    for (int i = 0; i < 3; i++) {
        if (record->parts[i] == NULL) continue;
        for (const char *p = s; strlen(p) >= record->part_lens[i]; p++) {
            if (strncmp(p, record->parts[i], record->part_lens[i]) == 0) return 1;
        }
    }
    return 0;
}

static void audit_callback(const jwtv_audit_event *event, void *user) {
    struct audit_record *record = user;
    const char *strings[6] = {event->alg, event->kid, event->iss, event->jti, event->sub_hash, event->policy};
    pthread_mutex_lock(&record->lock);
    record->events++;
    record->code = event->code;
    record->code_name = event->code_name; /* static */
    record->token_len = event->token_len;
    for (int i = 0; i < 6; i++) {
        record->unsafe_strings += audit_unsafe(record, strings[i]);
        free(record->strings[i]);
        record->strings[i] = audit_copy(strings[i]);
    }
    pthread_mutex_unlock(&record->lock);
}

/* Sets `record->parts` to the parts of `token` (NUL-terminated). */
static void audit_watch(struct audit_record *record, const char *token) {
    const char *start = token;
    for (int i = 0; i < 3; i++) {
        const char *dot = strchr(start, '.');
        record->parts[i] = start;
        record->part_lens[i] = dot != NULL ? (size_t)(dot - start) : strlen(start);
        start = dot != NULL ? dot + 1 : start + strlen(start);
    }
}

static void audit_record_free(struct audit_record *record) {
    for (int i = 0; i < 6; i++) free(record->strings[i]);
    pthread_mutex_destroy(&record->lock);
}

/* `got` (NULL or a string) is `want` (NULL or a string). */
#define CHECK_STRING(got, want)                                                                        \
    do {                                                                                               \
        const char *got_ = (got), *want_ = (want);                                                     \
        if ((got_ == NULL) != (want_ == NULL) || (got_ != NULL && strcmp(got_, want_) != 0)) {          \
            fprintf(stderr, "%s:%d: %s is \"%s\", want \"%s\"\n", __FILE__, __LINE__, #got,            \
                    got_ ? got_ : "(null)", want_ ? want_ : "(null)");                                 \
            failures++;                                                                                \
        }                                                                                              \
    } while (0)

/* HS256, unsigned ("signature" in base64url): header
 * {"alg":"HS256","kid":"evil\n\u001b[31m\u0000x"}, claims
 * {"iss":"https://issuer.example\r\nX-Forged: 1","aud":"api","sub":"user-1",
 *  "exp":4102444800,"jti":"j-forged"}. */
static const char audit_forged_kid[] =
    "eyJhbGciOiJIUzI1NiIsImtpZCI6ImV2aWxcblx1MDAxYlszMW1cdTAwMDB4In0."
    "eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlXHJcblgtRm9yZ2VkOiAxIiwiYXVkIjoiYXBpIiwic3ViIjoidXNlci0xIiwiZXhwIjo0"
    "MTAyNDQ0ODAwLCJqdGkiOiJqLWZvcmdlZCJ9.c2lnbmF0dXJl";
/* The same claims under {"alg":"HS256","kid":"test-hs256"}: the key exists,
 * the signature is wrong. */
static const char audit_forged_signature[] =
    "eyJhbGciOiJIUzI1NiIsImtpZCI6InRlc3QtaHMyNTYifQ."
    "eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlXHJcblgtRm9yZ2VkOiAxIiwiYXVkIjoiYXBpIiwic3ViIjoidXNlci0xIiwiZXhwIjo0"
    "MTAyNDQ0ODAwLCJqdGkiOiJqLWZvcmdlZCJ9.c2lnbmF0dXJl";

/* jwtv_verifier_set_audit_callback: one event per rejection, with the
 * code's name, the alg, and the kid, iss and jti escaped (a newline, an
 * escape sequence and a NUL written as \n, \u{1b}, \0); never the token or
 * a control byte; no event for a valid token; none once cleared. */
static void test_audit_callback(void) {
    jwtv_policy *policy = hs256_policy();
    jwtv_verifier *verifier = NULL;
    struct audit_record record = {.lock = PTHREAD_MUTEX_INITIALIZER};
    char err[256] = "";
    size_t valid_len = 0;
    char *valid = read_example("tokens/valid-hs256.jwt", &valid_len);

    CHECK_STATUS(jwtv_policy_set_string(policy, "name", "orders-api", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, err, sizeof err), JWTV_OK);
    jwtv_policy_free(policy);
    CHECK_STATUS(jwtv_verifier_set_audit_callback(NULL, audit_callback, &record), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_verifier_set_audit_callback(verifier, audit_callback, &record), JWTV_OK);

    audit_watch(&record, audit_forged_kid);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)audit_forged_kid, strlen(audit_forged_kid), 0, NULL,
                                      NULL, 0),
                 JWTV_KEY_NOT_FOUND);
    CHECK(record.events == 1);
    CHECK(record.code == JWTV_KEY_NOT_FOUND);
    CHECK_STRING(record.code_name, "key_not_found");
    CHECK_STRING(record.strings[0], "HS256");
    CHECK_STRING(record.strings[1], "evil\\n\\u{1b}[31m\\0x");
    CHECK_STRING(record.strings[2], "https://issuer.example\\r\\nX-Forged: 1");
    CHECK_STRING(record.strings[3], "j-forged");
    CHECK(record.strings[4] != NULL && strlen(record.strings[4]) == 16 &&
          strspn(record.strings[4], "0123456789abcdef") == 16);
    CHECK_STRING(record.strings[5], "orders-api");
    CHECK(record.token_len == strlen(audit_forged_kid));
    CHECK(record.unsafe_strings == 0);

    audit_watch(&record, audit_forged_signature);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)audit_forged_signature,
                                      strlen(audit_forged_signature), 0, NULL, NULL, 0),
                 JWTV_BAD_SIGNATURE);
    CHECK(record.events == 2 && record.code == JWTV_BAD_SIGNATURE);
    CHECK_STRING(record.code_name, "bad_signature");
    CHECK_STRING(record.strings[1], "test-hs256");
    CHECK(record.unsafe_strings == 0);

    /* Garbage: the code and the length, no field. */
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)"not.a.token", 11, 0, NULL, NULL, 0),
                 JWTV_MALFORMED);
    CHECK(record.events == 3 && record.code == JWTV_MALFORMED && record.token_len == 11);
    for (int i = 0; i < 5; i++) CHECK(record.strings[i] == NULL);

    /* A valid token and errors of the call give no event. */
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)valid, valid_len, 0, NULL, NULL, 0), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_verify(verifier, NULL, 5, 0, NULL, NULL, 0), JWTV_NULL_ARGUMENT);
    CHECK(record.events == 3);

    /* Cleared: no more events; clearing twice is fine. */
    CHECK_STATUS(jwtv_verifier_set_audit_callback(verifier, NULL, NULL), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_set_audit_callback(verifier, NULL, &record), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)audit_forged_kid, strlen(audit_forged_kid), 0, NULL,
                                      NULL, 0),
                 JWTV_KEY_NOT_FOUND);
    CHECK(record.events == 3);

    free(valid);
    jwtv_verifier_free(verifier);
    audit_record_free(&record);
}

/* A token not judged (no key set yet) gives an event too, code
 * unavailable, with its kid. */
static void test_audit_unavailable(void) {
    jwtv_policy *policy = NULL;
    jwtv_verifier *verifier = NULL;
    struct audit_record record = {.lock = PTHREAD_MUTEX_INITIALIZER};
    char err[256] = "", url[64];
    size_t token_len = 0;

    int server = silent_key_server(url, sizeof url);
    if (server < 0) return;
    CHECK_STATUS(jwtv_policy_new(&policy), JWTV_OK);
    CHECK_STATUS(jwtv_policy_add_string(policy, "algorithms", "ES256", err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_policy_set_string(policy, "keys.jwks_url", url, err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_from_policy(policy, JWTV_NONBLOCKING, &verifier, err, sizeof err), JWTV_OK);
    jwtv_policy_free(policy);
    CHECK_STATUS(jwtv_verifier_set_audit_callback(verifier, audit_callback, &record), JWTV_OK);
    char *token = read_example("tokens/valid-es256.jwt", &token_len);
    audit_watch(&record, token);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)token, token_len, 0, NULL, NULL, 0),
                 JWTV_UNAVAILABLE);
    CHECK(record.events == 1 && record.code == JWTV_UNAVAILABLE);
    CHECK_STRING(record.code_name, "unavailable");
    CHECK_STRING(record.strings[1], "test-es256");
    CHECK_STRING(record.strings[3], "example-0001");
    CHECK_STRING(record.strings[5], NULL); /* a policy without a name */
    CHECK(record.unsafe_strings == 0);
    free(token);
    jwtv_verifier_free(verifier);
    audit_record_free(&record);
    close(server);
}

struct audit_job {
    jwtv_verifier *verifier;
    const char *token;
    int rounds;
    int wrong; /* verdicts other than key_not_found */
};

static void *audit_verify_many(void *arg) {
    struct audit_job *job = arg;
    for (int i = 0; i < job->rounds; i++) {
        if (jwtv_verifier_verify(job->verifier, (const uint8_t *)job->token, strlen(job->token), 0, NULL, NULL, 0) !=
            JWTV_KEY_NOT_FOUND) {
            job->wrong++;
        }
    }
    return NULL;
}

/* Threads: every rejection of every thread is one event; a callback
 * replaced while threads verify is never called once the replacing call
 * has returned (its user data may then be freed). */
static void test_audit_threads(void) {
    jwtv_policy *policy = hs256_policy();
    jwtv_verifier *verifier = NULL;
    struct audit_record first = {.lock = PTHREAD_MUTEX_INITIALIZER}, second = {.lock = PTHREAD_MUTEX_INITIALIZER};
    pthread_t threads[THREADS];
    struct audit_job jobs[THREADS];

    CHECK_STATUS(jwtv_verifier_from_policy(policy, 0, &verifier, NULL, 0), JWTV_OK);
    jwtv_policy_free(policy);
    audit_watch(&first, audit_forged_kid);
    audit_watch(&second, audit_forged_kid);
    CHECK_STATUS(jwtv_verifier_set_audit_callback(verifier, audit_callback, &first), JWTV_OK);
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (struct audit_job){verifier, audit_forged_kid, ROUNDS, 0};
        CHECK(pthread_create(&threads[i], NULL, audit_verify_many, &jobs[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    CHECK(first.events == THREADS * ROUNDS);

    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (struct audit_job){verifier, audit_forged_kid, 4 * ROUNDS, 0};
        CHECK(pthread_create(&threads[i], NULL, audit_verify_many, &jobs[i]) == 0);
    }
    struct timespec pause = {0, 2000000};
    nanosleep(&pause, NULL);
    CHECK_STATUS(jwtv_verifier_set_audit_callback(verifier, audit_callback, &second), JWTV_OK);
    pthread_mutex_lock(&first.lock);
    int when_replaced = first.events;
    pthread_mutex_unlock(&first.lock);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        CHECK(jobs[i].wrong == 0);
    }
    CHECK(first.events == when_replaced);
    CHECK(first.events + second.events == THREADS * ROUNDS + THREADS * 4 * ROUNDS);
    CHECK(first.unsafe_strings == 0 && second.unsafe_strings == 0);
    CHECK_STRING(second.strings[1], "evil\\n\\u{1b}[31m\\0x");
    jwtv_verifier_free(verifier);
    audit_record_free(&first);
    audit_record_free(&second);
}

int main(int argc, char **argv) {
    if (argc > 1) examples = argv[1];
    test_version_and_failed_handles();
    test_error_names();
    test_policy_arguments();
    test_policy_fields();
    test_nonblocking();
    test_several_key_sources();
    test_record_no_token();
    test_wait_ready();
    test_verify_and_read_claims();
    test_claim_int64_rounding();
    test_strings_with_nul();
    test_claims_as_text();
    test_other_key_sources();
    test_snapshots_of_several_processes();
    test_revocations();
    test_threads();
    test_es512_follows_the_backend();
    test_state_changes();
    test_audit_callback();
    test_audit_unavailable();
    test_audit_threads();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("libjwtv C tests: all checks passed\n");
    return 0;
}

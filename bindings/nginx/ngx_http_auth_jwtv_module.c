/*
 * ngx_http_auth_jwtv_module: JWT authentication for NGINX with jwtv.
 *
 * Each rule directive sets one field of a jwtv policy (docs/POLICY.md)
 * through libjwtv's jwtv_policy calls, so a bad value fails `nginx -t` naming
 * the directive and the field. A location's merged directives become one
 * policy, checked at configuration time and deduplicated: each distinct
 * policy gets one verifier per worker, made when the worker starts (with key
 * files named with variables: one per set of evaluated files, made on the
 * first request naming them, a few kept). Requests are verified in the
 * ACCESS phase; the logic lives in libjwtv, this file only translates.
 * Counters reach auth_jwt_status through a shared memory zone: each worker
 * copies its verifiers' snapshots there every second, and a scrape renders
 * the sum over the workers, those that ended included.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "jwtv.h"

#define AUTH_JWTV_ERR_LEN 512
/* Seconds in the Retry-After of a 503 (a key set not loaded yet). */
#define AUTH_JWTV_RETRY_AFTER "5"
/* Verifiers kept per worker for auth_jwt_key_file paths with variables. */
#define AUTH_JWTV_FILE_CACHE 16
/* The longest such path, made absolute, in bytes. */
#define AUTH_JWTV_MAX_KEY_PATH 1024
/* How long a key file that failed to load answers 500 before it is tried again. */
#define AUTH_JWTV_FILE_RETRY_MSEC 1000
/* How often a worker copies its counters to the status zone. */
#define AUTH_JWTV_PUBLISH_MSEC 1000
/* The layout of the status zone (below): a zone of another layout is refused. */
#define AUTH_JWTV_ZONE_VERSION 1

/* The rule directives, in the order their fields are set. */
enum {
    AUTH_JWTV_KEY_FILE,
    AUTH_JWTV_KEY_URL,
    AUTH_JWTV_KEY_DISCOVERY,
    AUTH_JWTV_KEY_CACHE,
    AUTH_JWTV_ALG,
    AUTH_JWTV_ISSUER,
    AUTH_JWTV_AUDIENCE,
    AUTH_JWTV_TYP,
    AUTH_JWTV_LEEWAY,
    AUTH_JWTV_MAX_AGE,
    AUTH_JWTV_MAX_LIFETIME,
    AUTH_JWTV_REQUIRE_CLAIM,
    AUTH_JWTV_CRIT,
    AUTH_JWTV_CACHE,
    AUTH_JWTV_REVOCATIONS,
    AUTH_JWTV_TRUSTED_CERTIFICATE,
    AUTH_JWTV_NRULES
};

/* How a rule directive's words become its policy field. */
typedef enum {
    AUTH_JWTV_TEXT,    /* a string: jwtv_policy_set_string */
    AUTH_JWTV_PATH,    /* a file, made absolute against the configuration prefix */
    AUTH_JWTV_SOURCE,  /* a redis:// URL as written, or a file as AUTH_JWTV_PATH */
    AUTH_JWTV_LIST,    /* strings appended to a list: jwtv_policy_add_string */
    AUTH_JWTV_SECONDS, /* an nginx time (30s, 1h), set as a number of seconds */
    AUTH_JWTV_NUMBER,  /* a number, set as written: jwtv_policy_set */
    AUTH_JWTV_CLAIM,   /* claim [value | json=value]: required_claims, or required_claim_values */
    AUTH_JWTV_KEY_SOURCE /* a JWKS file or URL, any number: jwtv_policy_add_key_source */
} ngx_http_auth_jwtv_kind_e;

typedef struct {
    const char *path; /* the field of the policy document */
    ngx_http_auth_jwtv_kind_e kind;
} ngx_http_auth_jwtv_field_t;

static ngx_http_auth_jwtv_field_t ngx_http_auth_jwtv_fields[AUTH_JWTV_NRULES] = {
    [AUTH_JWTV_KEY_FILE] = {"keys.jwks_file", AUTH_JWTV_KEY_SOURCE},
    [AUTH_JWTV_KEY_URL] = {"keys.jwks_url", AUTH_JWTV_KEY_SOURCE},
    [AUTH_JWTV_KEY_DISCOVERY] = {"keys.issuer_discovery", AUTH_JWTV_KEY_SOURCE},
    [AUTH_JWTV_KEY_CACHE] = {"refresh.default_ttl_secs", AUTH_JWTV_SECONDS},
    [AUTH_JWTV_ALG] = {"algorithms", AUTH_JWTV_LIST},
    [AUTH_JWTV_ISSUER] = {"issuers", AUTH_JWTV_LIST},
    [AUTH_JWTV_AUDIENCE] = {"audiences", AUTH_JWTV_LIST},
    [AUTH_JWTV_TYP] = {"typ", AUTH_JWTV_TEXT},
    [AUTH_JWTV_LEEWAY] = {"leeway_secs", AUTH_JWTV_SECONDS},
    [AUTH_JWTV_MAX_AGE] = {"max_age_secs", AUTH_JWTV_SECONDS},
    [AUTH_JWTV_MAX_LIFETIME] = {"max_lifetime_secs", AUTH_JWTV_SECONDS},
    [AUTH_JWTV_REQUIRE_CLAIM] = {"required_claims", AUTH_JWTV_CLAIM},
    [AUTH_JWTV_CRIT] = {"understood_crit", AUTH_JWTV_LIST},
    [AUTH_JWTV_CACHE] = {"token_cache_size", AUTH_JWTV_NUMBER},
    [AUTH_JWTV_REVOCATIONS] = {"revocations.source", AUTH_JWTV_SOURCE},
    [AUTH_JWTV_TRUSTED_CERTIFICATE] = {"tls.ca_file", AUTH_JWTV_PATH},
};

/* Without auth_jwt_alg, every algorithm; each key still verifies only its own. */
static ngx_str_t ngx_http_auth_jwtv_all_algs[] = {
    ngx_string("HS256"), ngx_string("HS384"), ngx_string("HS512"), ngx_string("RS256"),
    ngx_string("RS384"), ngx_string("RS512"), ngx_string("PS256"), ngx_string("PS384"),
    ngx_string("PS512"), ngx_string("ES256"), ngx_string("ES384"), ngx_string("EdDSA")};

/*
 * The status zone: for each policy, and one for the module's own counters, a
 * record of the words each running worker published there (one slot per
 * worker) and the retired accumulator, to which a worker that ends (or the
 * one that finds it killed) adds its last words; a scrape sums them. A
 * policy's words are libjwtv's snapshot, whose word 0 names its layout
 * (jwtv_snapshot_empty); the module's are AUTH_JWTV_OWN_*.
 */
typedef struct ngx_http_auth_jwtv_slot_s ngx_http_auth_jwtv_slot_t;
struct ngx_http_auth_jwtv_slot_s {
    ngx_http_auth_jwtv_slot_t *next;
    ngx_pid_t pid;    /* the worker's */
    uint64_t words[]; /* as many as the record's */
};

typedef struct ngx_http_auth_jwtv_record_s ngx_http_auth_jwtv_record_t;
struct ngx_http_auth_jwtv_record_s {
    ngx_http_auth_jwtv_record_t *next;
    uint64_t key;     /* the policy's document and file, hashed; 0: the module's own counters */
    size_t len;       /* words in each slot and in `retired` */
    ngx_uint_t users; /* workers publishing here, with a slot or without one (the zone was full) */
    ngx_http_auth_jwtv_slot_t *slots;
    uint64_t retired[];
};

typedef struct {
    ngx_uint_t version; /* AUTH_JWTV_ZONE_VERSION */
    ngx_http_auth_jwtv_record_t *records;
} ngx_http_auth_jwtv_zone_t;

/* The module's own counters, as the words of its record (word 0 unused). */
enum {
    AUTH_JWTV_OWN_REFUSED = 1, /* token values left out of variables */
    AUTH_JWTV_OWN_LOADS,       /* key files named with variables: loaded, */
    AUTH_JWTV_OWN_FAILURES,    /* failed to load, */
    AUTH_JWTV_OWN_REFUSALS,    /* paths refused unread; */
    AUTH_JWTV_OWN_HELD,        /* verifiers held now (summed over the running workers only) */
    AUTH_JWTV_OWN_WORDS
};

/* What this worker publishes to one record. */
typedef struct {
    ngx_http_auth_jwtv_record_t *record; /* NULL: nothing */
    ngx_http_auth_jwtv_slot_t *slot;     /* NULL: the zone was full; words go to `retired` as they grow */
    jwtv_verifier *verifier;             /* NULL: the module's own counters */
    uint64_t *now;                       /* the words being published, */
    uint64_t *last;                      /* and those published the time before */
} ngx_http_auth_jwtv_pub_t;

/* The words a scrape renders: this worker's first, then each other running
 * worker's, and the retired accumulator. */
typedef struct {
    uint64_t *live;
    size_t count;
    uint64_t *retired;
} ngx_http_auth_jwtv_sum_t;

typedef struct {
    jwtv_policy *policy;
    ngx_str_t json; /* its document and */
    ngx_str_t file; /* its policy file: two locations with both equal share it */
    ngx_uint_t alone; /* a location verifies with it as it is (no key file path with variables) */
    ngx_http_auth_jwtv_record_t *record; /* its counters in the status zone (when alone) */
} ngx_http_auth_jwtv_policy_t;

typedef struct {
    ngx_array_t policies; /* of ngx_http_auth_jwtv_policy_t */
    size_t zone_size;     /* auth_jwt_status_zone; unset: sized for the workers and policies */
    ngx_shm_zone_t *zone; /* the status zone; NULL without policies */
    size_t words;         /* in a libjwtv snapshot */
    uint64_t *empty;      /* an empty snapshot: a new record's retired accumulator */
    ngx_http_auth_jwtv_record_t *own; /* the module's own counters in the zone */
} ngx_http_auth_jwtv_main_conf_t;

typedef struct {
    ngx_array_t *words; /* of ngx_str_t, NUL-terminated; NULL: not given here or above */
    ngx_command_t *cmd; /* the directive that gave them */
    ngx_array_t *files; /* auth_jwt_key_file paths with variables, of ngx_http_complex_value_t;
                           evaluated per request, kept out of `words` and of the policy */
} ngx_http_auth_jwtv_rule_t;

/* One value of auth_jwt_require, and the status its failure answers. */
typedef struct {
    ngx_http_complex_value_t value;
    ngx_int_t status; /* 401 or 403 */
} ngx_http_auth_jwtv_require_t;

/* A variable of auth_jwt_claim_set or auth_jwt_header_set. */
typedef struct {
    ngx_str_t name;          /* the variable's, for the log */
    const char **path;       /* member names, NUL-terminated, from the top */
    size_t depth;
    ngx_uint_t header;       /* 1: a header parameter, 0: a claim */
} ngx_http_auth_jwtv_member_t;

typedef struct {
    ngx_flag_t enabled; /* auth_jwt: 1 on, 0 off */
    ngx_str_t realm;
    ngx_http_complex_value_t *token; /* token=$variable */
    ngx_str_t policy_file;
    ngx_http_auth_jwtv_rule_t rules[AUTH_JWTV_NRULES];
    jwtv_policy *own;  /* the rules given at this level alone, each checked as it is read */
    ngx_array_t *require; /* of ngx_http_auth_jwtv_require_t: auth_jwt_require, checked after verification */
    ngx_flag_t status; /* auth_jwt_status in this location */
    ngx_int_t policy;  /* index in the main conf's policies, or -1 */
} ngx_http_auth_jwtv_loc_conf_t;

typedef struct {
    jwtv_token *token; /* the verified token, freed with the request pool */
    jwtv_status status;
    ngx_int_t rc;         /* the access handler's answer, kept for re-entry */
    ngx_array_t *refused; /* of ngx_str_t *: variables left empty, already logged */
    /* Of a rejected token, from libjwtv's audit event (values already escaped):
     * the fields for the log line, and $jwt_rejected_kid and $jwt_rejected_iss
     * (data NULL: the token has none). */
    ngx_str_t audit;
    ngx_str_t rejected[2];
} ngx_http_auth_jwtv_ctx_t;

static ngx_int_t ngx_http_auth_jwtv_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_auth_jwtv_status_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_auth_jwtv_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_auth_jwtv_init(ngx_conf_t *cf);
static void *ngx_http_auth_jwtv_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_auth_jwtv_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_auth_jwtv_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child);
static char *ngx_http_auth_jwtv(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_auth_jwtv_rule(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_auth_jwtv_policy_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_auth_jwtv_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_auth_jwtv_type(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_auth_jwtv_require(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_auth_jwtv_member_set(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_auth_jwtv_key_request(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static jwtv_status ngx_http_auth_jwtv_set_rules(jwtv_policy *p, ngx_http_auth_jwtv_rule_t *rule, ngx_uint_t *failed,
                                                char err[AUTH_JWTV_ERR_LEN]);
static ngx_int_t ngx_http_auth_jwtv_init_process(ngx_cycle_t *cycle);
static void ngx_http_auth_jwtv_exit_process(ngx_cycle_t *cycle);
static void ngx_http_auth_jwtv_publish_handler(ngx_event_t *ev);
static void ngx_http_auth_jwtv_changes_handler(ngx_event_t *ev);

#define AUTH_JWTV_CONTEXT (NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF)
/* Where NGINX Plus also allows a directive inside limit_except. */
#define AUTH_JWTV_LMT_CONTEXT (AUTH_JWTV_CONTEXT | NGX_HTTP_LMT_CONF)
/* A rule directive: `offset` is its rule, in ngx_http_auth_jwtv_fields. */
#define AUTH_JWTV_RULE(name, args, rule) \
    {ngx_string(name), AUTH_JWTV_CONTEXT | args, ngx_http_auth_jwtv_rule, NGX_HTTP_LOC_CONF_OFFSET, rule, NULL}

static ngx_command_t ngx_http_auth_jwtv_commands[] = {
    {ngx_string("auth_jwt"), AUTH_JWTV_LMT_CONTEXT | NGX_CONF_TAKE12, ngx_http_auth_jwtv, NGX_HTTP_LOC_CONF_OFFSET,
     0, NULL},
    {ngx_string("auth_jwt_type"), AUTH_JWTV_LMT_CONTEXT | NGX_CONF_TAKE1, ngx_http_auth_jwtv_type,
     NGX_HTTP_LOC_CONF_OFFSET, 0, NULL},
    {ngx_string("auth_jwt_require"), AUTH_JWTV_LMT_CONTEXT | NGX_CONF_1MORE, ngx_http_auth_jwtv_require,
     NGX_HTTP_LOC_CONF_OFFSET, 0, NULL},
    /* `offset` says what the path names: 0 a claim, 1 a header parameter. */
    {ngx_string("auth_jwt_claim_set"), NGX_HTTP_MAIN_CONF | NGX_CONF_2MORE, ngx_http_auth_jwtv_member_set, 0, 0,
     NULL},
    {ngx_string("auth_jwt_header_set"), NGX_HTTP_MAIN_CONF | NGX_CONF_2MORE, ngx_http_auth_jwtv_member_set, 0, 1,
     NULL},
    {ngx_string("auth_jwt_policy"), AUTH_JWTV_CONTEXT | NGX_CONF_TAKE1, ngx_http_auth_jwtv_policy_file,
     NGX_HTTP_LOC_CONF_OFFSET, 0, NULL},
    AUTH_JWTV_RULE("auth_jwt_key_file", NGX_CONF_TAKE1, AUTH_JWTV_KEY_FILE),
    AUTH_JWTV_RULE("auth_jwt_key_url", NGX_CONF_TAKE1, AUTH_JWTV_KEY_URL),
    AUTH_JWTV_RULE("auth_jwt_issuer_discovery", NGX_CONF_TAKE1, AUTH_JWTV_KEY_DISCOVERY),
    AUTH_JWTV_RULE("auth_jwt_key_cache", NGX_CONF_TAKE1, AUTH_JWTV_KEY_CACHE),
    /* NGINX Plus's spelling of auth_jwt_key_url, for a full URL. */
    {ngx_string("auth_jwt_key_request"), AUTH_JWTV_CONTEXT | NGX_CONF_TAKE1, ngx_http_auth_jwtv_key_request,
     NGX_HTTP_LOC_CONF_OFFSET, AUTH_JWTV_KEY_URL, NULL},
    AUTH_JWTV_RULE("auth_jwt_alg", NGX_CONF_1MORE, AUTH_JWTV_ALG),
    AUTH_JWTV_RULE("auth_jwt_issuer", NGX_CONF_1MORE, AUTH_JWTV_ISSUER),
    AUTH_JWTV_RULE("auth_jwt_audience", NGX_CONF_1MORE, AUTH_JWTV_AUDIENCE),
    AUTH_JWTV_RULE("auth_jwt_typ", NGX_CONF_TAKE1, AUTH_JWTV_TYP),
    AUTH_JWTV_RULE("auth_jwt_leeway", NGX_CONF_TAKE1, AUTH_JWTV_LEEWAY),
    AUTH_JWTV_RULE("auth_jwt_max_age", NGX_CONF_TAKE1, AUTH_JWTV_MAX_AGE),
    AUTH_JWTV_RULE("auth_jwt_max_lifetime", NGX_CONF_TAKE1, AUTH_JWTV_MAX_LIFETIME),
    AUTH_JWTV_RULE("auth_jwt_require_claim", NGX_CONF_TAKE12, AUTH_JWTV_REQUIRE_CLAIM),
    AUTH_JWTV_RULE("auth_jwt_crit", NGX_CONF_1MORE, AUTH_JWTV_CRIT),
    AUTH_JWTV_RULE("auth_jwt_cache", NGX_CONF_TAKE1, AUTH_JWTV_CACHE),
    AUTH_JWTV_RULE("auth_jwt_revocations", NGX_CONF_TAKE1, AUTH_JWTV_REVOCATIONS),
    AUTH_JWTV_RULE("auth_jwt_trusted_certificate", NGX_CONF_TAKE1, AUTH_JWTV_TRUSTED_CERTIFICATE),
    {ngx_string("auth_jwt_status"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, ngx_http_auth_jwtv_status,
     NGX_HTTP_LOC_CONF_OFFSET, 0, NULL},
    {ngx_string("auth_jwt_status_zone"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, ngx_conf_set_size_slot,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(ngx_http_auth_jwtv_main_conf_t, zone_size), NULL},
    ngx_null_command};

static ngx_http_module_t ngx_http_auth_jwtv_module_ctx = {
    ngx_http_auth_jwtv_add_variables,    /* preconfiguration */
    ngx_http_auth_jwtv_init,             /* postconfiguration */
    ngx_http_auth_jwtv_create_main_conf, /* create main configuration */
    NULL,                                /* init main configuration */
    NULL,                                /* create server configuration */
    NULL,                                /* merge server configuration */
    ngx_http_auth_jwtv_create_loc_conf,  /* create location configuration */
    ngx_http_auth_jwtv_merge_loc_conf    /* merge location configuration */
};

ngx_module_t ngx_http_auth_jwtv_module = {NGX_MODULE_V1,
                                          &ngx_http_auth_jwtv_module_ctx, /* module context */
                                          ngx_http_auth_jwtv_commands,    /* module directives */
                                          NGX_HTTP_MODULE,                /* module type */
                                          NULL,                           /* init master */
                                          NULL,                           /* init module */
                                          ngx_http_auth_jwtv_init_process, /* init process */
                                          NULL,                           /* init thread */
                                          NULL,                           /* exit thread */
                                          ngx_http_auth_jwtv_exit_process, /* exit process */
                                          NULL,                           /* exit master */
                                          NGX_MODULE_V1_PADDING};

/* One verifier per distinct policy, in this worker process. */
static jwtv_verifier **ngx_http_auth_jwtv_verifiers;
static ngx_uint_t ngx_http_auth_jwtv_nverifiers;
/* Token values left out of variables for holding control bytes, in this worker. */
static ngx_uint_t ngx_http_auth_jwtv_refused;

/*
 * A verifier for a location's policy plus the key files its auth_jwt_key_file
 * paths with variables named: made on the first request naming them, kept for
 * the next ones (least recently used evicted). A load that failed is kept as
 * a NULL verifier for AUTH_JWTV_FILE_RETRY_MSEC, then tried again.
 */
typedef struct {
    ngx_int_t policy;        /* the location's policy index */
    u_char *paths;           /* the absolute paths, each NUL-terminated, back to back; NULL: a free slot */
    size_t len;              /* of `paths`, NULs included */
    jwtv_verifier *verifier; /* NULL: the load failed at `failed` */
    ngx_msec_t failed;
    uint64_t used;           /* the last request that used it, for eviction */
} ngx_http_auth_jwtv_file_verifier_t;

static ngx_http_auth_jwtv_file_verifier_t ngx_http_auth_jwtv_file_verifiers[AUTH_JWTV_FILE_CACHE];
static uint64_t ngx_http_auth_jwtv_file_clock;
/* In this worker: loads of such key files that made a verifier, that failed,
 * and evaluated paths refused without being read. */
static ngx_uint_t ngx_http_auth_jwtv_file_loads, ngx_http_auth_jwtv_file_failures, ngx_http_auth_jwtv_file_refusals;
/* The configuration prefix, against which key file paths evaluated per
 * request are made absolute (as ngx_conf_full_name does for fixed ones). */
static ngx_str_t ngx_http_auth_jwtv_prefix;

/*
 * The module's log: the connection's, without the request's log handler, which
 * would append the request line and the Referer (and with them a token passed
 * in a query string). Lines still carry the connection number; callers add the
 * client address.
 */
static void ngx_http_auth_jwtv_log(ngx_http_request_t *r, ngx_log_t *log) {
    *log = *r->connection->log;
    log->handler = NULL;
    log->data = NULL;
}

/* ---- variables ---- */

static ngx_int_t ngx_http_auth_jwtv_claim_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_auth_jwtv_header_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
                                                    uintptr_t data);
static ngx_int_t ngx_http_auth_jwtv_error_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_auth_jwtv_claims_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
                                                    uintptr_t data);
static ngx_int_t ngx_http_auth_jwtv_rejected_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
                                                      uintptr_t data);

static ngx_http_variable_t ngx_http_auth_jwtv_vars[] = {
    {ngx_string("jwt_claim_"), NULL, ngx_http_auth_jwtv_claim_variable, 0,
     NGX_HTTP_VAR_PREFIX | NGX_HTTP_VAR_NOCACHEABLE, 0},
    {ngx_string("jwt_header_"), NULL, ngx_http_auth_jwtv_header_variable, 0,
     NGX_HTTP_VAR_PREFIX | NGX_HTTP_VAR_NOCACHEABLE, 0},
    {ngx_string("jwt_error"), NULL, ngx_http_auth_jwtv_error_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0},
    {ngx_string("jwt_claims"), NULL, ngx_http_auth_jwtv_claims_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0},
    /* `data` indexes ngx_http_auth_jwtv_ctx_t.rejected. */
    {ngx_string("jwt_rejected_kid"), NULL, ngx_http_auth_jwtv_rejected_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0},
    {ngx_string("jwt_rejected_iss"), NULL, ngx_http_auth_jwtv_rejected_variable, 1, NGX_HTTP_VAR_NOCACHEABLE, 0},
    ngx_http_null_variable};

static ngx_int_t ngx_http_auth_jwtv_add_variables(ngx_conf_t *cf) {
    ngx_http_variable_t *var, *v;

    for (v = ngx_http_auth_jwtv_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }
        var->get_handler = v->get_handler;
        var->data = v->data;
    }
    return NGX_OK;
}

/*
 * The one way a value taken from the token becomes a variable. Claims are
 * decoded JSON strings, so a validly signed token can carry CR, LF or NUL, and
 * a variable is copied into request and response headers (proxy_set_header,
 * add_header): a value holding any C0 control byte or DEL is left empty,
 * counted, and logged once per request and variable, by name only. A NULL
 * value is one libjwtv would not hand over as a C string (it holds NUL).
 */
static ngx_int_t ngx_http_auth_jwtv_value(ngx_http_request_t *r, ngx_http_variable_value_t *v, ngx_str_t *name,
                                          u_char *data, size_t len) {
    ngx_http_auth_jwtv_ctx_t *ctx;
    ngx_str_t **seen;
    ngx_log_t log;
    size_t i;

    for (i = 0; data != NULL && i < len; i++) {
        if (data[i] < 0x20 || data[i] == 0x7f) {
            break;
        }
    }
    if (data != NULL && i == len) {
        v->data = data;
        v->len = len;
        v->valid = 1;
        v->no_cacheable = 1;
        v->not_found = 0;
        return NGX_OK;
    }

    v->not_found = 1;
    ctx = ngx_http_get_module_ctx(r->main, ngx_http_auth_jwtv_module);
    if (ctx->refused == NULL) {
        ctx->refused = ngx_array_create(r->main->pool, 2, sizeof(ngx_str_t *));
        if (ctx->refused == NULL) {
            return NGX_ERROR;
        }
    }
    seen = ctx->refused->elts;
    for (i = 0; i < ctx->refused->nelts; i++) {
        if (seen[i] == name) {
            return NGX_OK;
        }
    }
    seen = ngx_array_push(ctx->refused);
    if (seen == NULL) {
        return NGX_ERROR;
    }
    *seen = name;
    ngx_http_auth_jwtv_refused++;
    ngx_http_auth_jwtv_log(r, &log);
    ngx_log_error(NGX_LOG_INFO, &log, 0, "auth_jwt: $%V left empty: the token's value holds a control character, client: %V",
                  name, &r->connection->addr_text);
    return NGX_OK;
}

/*
 * A claim or header parameter at `path`, as NGINX Plus shows it: strings
 * decoded, arrays joined with commas, anything else as JSON (libjwtv's
 * jwtv_token_claim_text). `name` is the variable's.
 */
static ngx_int_t ngx_http_auth_jwtv_member(ngx_http_request_t *r, ngx_http_variable_value_t *v, ngx_str_t *name,
                                           const char *const *path, size_t depth, ngx_uint_t header) {
    jwtv_status (*text)(const jwtv_token *, const char *const *, size_t, char *, size_t, size_t *) =
        header ? jwtv_token_header_text : jwtv_token_claim_text;
    ngx_http_auth_jwtv_ctx_t *ctx;
    size_t len = 0;
    jwtv_status rc;
    u_char *buf;

    v->not_found = 1;
    ctx = ngx_http_get_module_ctx(r->main, ngx_http_auth_jwtv_module);
    if (ctx == NULL || ctx->token == NULL) {
        return NGX_OK;
    }
    rc = text(ctx->token, path, depth, NULL, 0, &len);
    if (rc == JWTV_NOT_FOUND) {
        return NGX_OK;
    }
    if (rc != JWTV_BUFFER_TOO_SMALL) {
        return ngx_http_auth_jwtv_value(r, v, name, NULL, 0); /* present, but not as a C string */
    }
    buf = ngx_pnalloc(r->pool, len + 1);
    if (buf == NULL) {
        return NGX_ERROR;
    }
    if (text(ctx->token, path, depth, (char *)buf, len + 1, NULL) != JWTV_OK) {
        return NGX_OK;
    }
    return ngx_http_auth_jwtv_value(r, v, name, buf, len);
}

/* $jwt_claim_<name> and $jwt_header_<name>: a top-level member. */
static ngx_int_t ngx_http_auth_jwtv_prefixed(ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data,
                                             size_t prefix_len, ngx_uint_t header) {
    ngx_str_t *name = (ngx_str_t *)data;
    const char *path[1];
    u_char *cname;

    v->not_found = 1;
    if (name->len <= prefix_len) {
        return NGX_OK;
    }
    cname = ngx_pnalloc(r->pool, name->len - prefix_len + 1);
    if (cname == NULL) {
        return NGX_ERROR;
    }
    ngx_memcpy(cname, name->data + prefix_len, name->len - prefix_len);
    cname[name->len - prefix_len] = '\0';
    path[0] = (const char *)cname;
    return ngx_http_auth_jwtv_member(r, v, name, path, 1, header);
}

static ngx_int_t ngx_http_auth_jwtv_claim_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
                                                   uintptr_t data) {
    return ngx_http_auth_jwtv_prefixed(r, v, data, sizeof("jwt_claim_") - 1, 0);
}

static ngx_int_t ngx_http_auth_jwtv_header_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
                                                    uintptr_t data) {
    return ngx_http_auth_jwtv_prefixed(r, v, data, sizeof("jwt_header_") - 1, 1);
}

/* A variable of auth_jwt_claim_set or auth_jwt_header_set. */
static ngx_int_t ngx_http_auth_jwtv_set_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
                                                 uintptr_t data) {
    ngx_http_auth_jwtv_member_t *m = (ngx_http_auth_jwtv_member_t *)data;
    return ngx_http_auth_jwtv_member(r, v, &m->name, m->path, m->depth, m->header);
}

/* $jwt_claims: the verified token's claims, as their JSON text. */
static ngx_int_t ngx_http_auth_jwtv_claims_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
                                                    uintptr_t data) {
    static ngx_str_t name = ngx_string("jwt_claims");
    ngx_http_auth_jwtv_ctx_t *ctx;
    const uint8_t *json;
    size_t len;

    (void)data;
    v->not_found = 1;
    ctx = ngx_http_get_module_ctx(r->main, ngx_http_auth_jwtv_module);
    if (ctx == NULL || ctx->token == NULL || jwtv_token_claims_json(ctx->token, &json, &len) != JWTV_OK) {
        return NGX_OK;
    }
    return ngx_http_auth_jwtv_value(r, v, &name, (u_char *)json, len); /* lent until the token is freed */
}

static ngx_int_t ngx_http_auth_jwtv_error_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
                                                   uintptr_t data) {
    ngx_http_auth_jwtv_ctx_t *ctx;
    const char *name;

    (void)data;
    v->not_found = 1;
    ctx = ngx_http_get_module_ctx(r->main, ngx_http_auth_jwtv_module);
    if (ctx == NULL || ctx->status == JWTV_OK) {
        return NGX_OK;
    }
    name = jwtv_error_name(ctx->status);
    v->data = (u_char *)name;
    v->len = ngx_strlen(name);
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    return NGX_OK;
}

/* $jwt_rejected_kid and $jwt_rejected_iss: the rejected token's kid and iss
 * as libjwtv's audit event has them (cut to 128 characters, escaped), through
 * the one sink of token values; empty when verified or absent. */
static ngx_int_t ngx_http_auth_jwtv_rejected_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
                                                      uintptr_t data) {
    static ngx_str_t names[2] = {ngx_string("jwt_rejected_kid"), ngx_string("jwt_rejected_iss")};
    ngx_http_auth_jwtv_ctx_t *ctx;

    v->not_found = 1;
    ctx = ngx_http_get_module_ctx(r->main, ngx_http_auth_jwtv_module);
    if (ctx == NULL || data > 1 || ctx->rejected[data].data == NULL) {
        return NGX_OK;
    }
    return ngx_http_auth_jwtv_value(r, v, &names[data], ctx->rejected[data].data, ctx->rejected[data].len);
}

/* ---- request handling ---- */

static void ngx_http_auth_jwtv_cleanup(void *data) {
    ngx_http_auth_jwtv_ctx_t *ctx = data;
    jwtv_token_free(ctx->token);
    ctx->token = NULL;
}

/* The request whose token this worker is verifying, for the audit callback. */
static ngx_http_request_t *ngx_http_auth_jwtv_audited;

/* Writes " name=" and `value` (in quotes when `quote`), or "-" for NULL. */
static u_char *ngx_http_auth_jwtv_audit_field(u_char *p, const char *name, const char *value, ngx_uint_t quote) {
    p = ngx_sprintf(p, " %s=", name);
    if (value == NULL) {
        *p++ = '-';
    } else if (quote) {
        p = ngx_sprintf(p, "\"%s\"", value);
    } else {
        p = ngx_cpymem(p, value, ngx_strlen(value));
    }
    return p;
}

/*
 * libjwtv's audit callback, registered on every verifier of the worker:
 * called within jwtv_verifier_verify for a rejected token, on this worker's
 * thread. The event holds the token's alg, kid, iss and jti already escaped
 * (no control byte) and never the token; they are copied to the request's
 * pool for the log line and the $jwt_rejected_ variables.
 */
static void ngx_http_auth_jwtv_audit(const jwtv_audit_event *event, void *user) {
    const char *quoted[] = {"alg", event->alg, "kid", event->kid, "iss", event->iss, "jti", event->jti};
    const char *plain[] = {"sub_hash", event->sub_hash, "policy", event->policy};
    ngx_http_request_t *r = ngx_http_auth_jwtv_audited;
    const char *rejected[2] = {event->kid, event->iss};
    ngx_http_auth_jwtv_ctx_t *ctx;
    size_t len = 0, i;
    u_char *p;

    (void)user;
    ctx = r != NULL ? ngx_http_get_module_ctx(r, ngx_http_auth_jwtv_module) : NULL;
    if (ctx == NULL) {
        return;
    }
    for (i = 0; i < 8; i += 2) {
        len += sizeof(" =\"\"") + ngx_strlen(quoted[i]) + (quoted[i + 1] != NULL ? ngx_strlen(quoted[i + 1]) : 0);
    }
    for (i = 0; i < 4; i += 2) {
        len += sizeof(" =-") + ngx_strlen(plain[i]) + (plain[i + 1] != NULL ? ngx_strlen(plain[i + 1]) : 0);
    }
    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return;
    }
    ctx->audit.data = p;
    for (i = 0; i < 8; i += 2) {
        p = ngx_http_auth_jwtv_audit_field(p, quoted[i], quoted[i + 1], 1);
    }
    for (i = 0; i < 4; i += 2) {
        p = ngx_http_auth_jwtv_audit_field(p, plain[i], plain[i + 1], 0);
    }
    ctx->audit.len = p - ctx->audit.data;
    for (i = 0; i < 2; i++) {
        len = rejected[i] != NULL ? ngx_strlen(rejected[i]) : 0;
        p = rejected[i] != NULL ? ngx_pnalloc(r->pool, len + 1) : NULL;
        if (p != NULL) {
            ngx_memcpy(p, rejected[i], len);
            ctx->rejected[i].data = p;
            ctx->rejected[i].len = len;
        }
    }
}

static ngx_table_elt_t *ngx_http_auth_jwtv_push_header(ngx_http_request_t *r) {
    ngx_table_elt_t *h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NULL;
    }
    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    return h;
}

/*
 * Answers `status` (401 or 403) with an RFC 6750 challenge. `error` and
 * `description` are static names (NULL: left out): a request without a token
 * gets no error fields.
 */
static ngx_int_t ngx_http_auth_jwtv_challenge(ngx_http_request_t *r, ngx_http_auth_jwtv_loc_conf_t *conf,
                                              ngx_int_t status, const char *error, const char *description) {
    ngx_table_elt_t *h;
    size_t len;
    u_char *p;

    len = sizeof("Bearer realm=\"\"") - 1 + conf->realm.len;
    if (error != NULL) {
        len += sizeof(", error=\"\"") - 1 + ngx_strlen(error);
    }
    if (description != NULL) {
        len += sizeof(", error_description=\"\"") - 1 + ngx_strlen(description);
    }
    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    h = ngx_http_auth_jwtv_push_header(r);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    ngx_str_set(&h->key, "WWW-Authenticate");
    h->value.data = p;
    p = ngx_sprintf(p, "Bearer realm=\"%V\"", &conf->realm);
    if (error != NULL) {
        p = ngx_sprintf(p, ", error=\"%s\"", error);
    }
    if (description != NULL) {
        p = ngx_sprintf(p, ", error_description=\"%s\"", description);
    }
    h->value.len = p - h->value.data;
    r->headers_out.www_authenticate = h;
    return status;
}

/* Answers 401 for a token that was rejected (code) or not given (NULL). */
static ngx_int_t ngx_http_auth_jwtv_reject(ngx_http_request_t *r, ngx_http_auth_jwtv_loc_conf_t *conf,
                                           const char *code) {
    return ngx_http_auth_jwtv_challenge(r, conf, NGX_HTTP_UNAUTHORIZED, code != NULL ? "invalid_token" : NULL, code);
}

/*
 * auth_jwt_require, after the token verified: each value must be non-empty
 * and not "0" (NGINX Plus's rule). The first that fails answers its status
 * (401 or 403) with error="insufficient_scope"; the log names the directive's
 * value as configured, never what it evaluated to.
 */
static ngx_int_t ngx_http_auth_jwtv_check_require(ngx_http_request_t *r, ngx_http_auth_jwtv_loc_conf_t *conf,
                                                  ngx_log_t *log) {
    ngx_http_auth_jwtv_require_t *require = conf->require->elts;
    ngx_str_t value;

    for (ngx_uint_t i = 0; i < conf->require->nelts; i++) {
        if (ngx_http_complex_value(r, &require[i].value, &value) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        if (value.len == 0 || (value.len == 1 && value.data[0] == '0')) {
            ngx_log_error(NGX_LOG_INFO, log, 0, "auth_jwt: token verified, but \"auth_jwt_require %V\" failed, client: %V",
                          &require[i].value.value, &r->connection->addr_text);
            return ngx_http_auth_jwtv_challenge(r, conf, require[i].status, "insufficient_scope", NULL);
        }
    }
    return NGX_OK;
}

/* Answers 503 with Retry-After: a check the policy requires could not run (the
 * key set is not loaded yet); not a verdict on the token. */
static ngx_int_t ngx_http_auth_jwtv_unavailable(ngx_http_request_t *r) {
    ngx_table_elt_t *h = ngx_http_auth_jwtv_push_header(r);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    ngx_str_set(&h->key, "Retry-After");
    ngx_str_set(&h->value, AUTH_JWTV_RETRY_AFTER);
    return NGX_HTTP_SERVICE_UNAVAILABLE;
}

/* The token: from the configured variable, or `Authorization: Bearer …`. */
static ngx_int_t ngx_http_auth_jwtv_token(ngx_http_request_t *r, ngx_http_auth_jwtv_loc_conf_t *conf,
                                          ngx_str_t *token) {
    ngx_str_t value;

    token->len = 0;
    if (conf->token != NULL) {
        if (ngx_http_complex_value(r, conf->token, token) != NGX_OK) {
            return NGX_ERROR;
        }
        return NGX_OK;
    }
    if (r->headers_in.authorization == NULL) {
        return NGX_OK;
    }
    value = r->headers_in.authorization->value;
    if (value.len < sizeof("Bearer ") - 1 || ngx_strncasecmp(value.data, (u_char *)"Bearer ", 7) != 0) {
        return NGX_OK;
    }
    value.data += 7;
    value.len -= 7;
    while (value.len > 0 && *value.data == ' ') {
        value.data++;
        value.len--;
    }
    *token = value;
    return NGX_OK;
}

/* ---- key files named with variables ---- */

/*
 * Writes `len` bytes of `src` for a log line into `dst` (room for 4 * len
 * bytes): printable ASCII as it is; every other byte (control bytes, DEL,
 * bytes of 0x80 and above), the backslash and the double quote as \xHH. A
 * value that came from a request can then neither split a log line nor
 * forge a quote. Returns the end of what was written.
 */
static u_char *ngx_http_auth_jwtv_escape(u_char *dst, const u_char *src, size_t len) {
    static const u_char hex[] = "0123456789ABCDEF";

    for (size_t i = 0; i < len; i++) {
        if (src[i] < 0x20 || src[i] >= 0x7f || src[i] == '\\' || src[i] == '"') {
            *dst++ = '\\';
            *dst++ = 'x';
            *dst++ = hex[src[i] >> 4];
            *dst++ = hex[src[i] & 0xf];
        } else {
            *dst++ = src[i];
        }
    }
    return dst;
}

/* The first `max` bytes of `src` escaped for a log line, then "..." when cut. */
static ngx_str_t ngx_http_auth_jwtv_escaped(ngx_pool_t *pool, const u_char *src, size_t len, size_t max) {
    ngx_str_t out = ngx_string("-");
    size_t n = len > max ? max : len;
    u_char *p = ngx_pnalloc(pool, 4 * n + 3);

    if (p != NULL) {
        out.data = p;
        p = ngx_http_auth_jwtv_escape(p, src, n);
        if (n < len) {
            p = ngx_cpymem(p, "...", 3);
        }
        out.len = p - out.data;
    }
    return out;
}

/* Whether a path holds a ".." segment. */
static ngx_uint_t ngx_http_auth_jwtv_has_dotdot(const u_char *path, size_t len) {
    for (size_t start = 0, i = 0; i <= len; i++) {
        if (i == len || path[i] == '/') {
            if (i - start == 2 && path[start] == '.' && path[start + 1] == '.') {
                return 1;
            }
            start = i + 1;
        }
    }
    return 0;
}

/*
 * Why an evaluated key file path is refused without being read, or NULL. A
 * variable can carry request data, so the path is held to what a key file's
 * path needs: not empty, no NUL or other control byte, no ".." segment (it
 * stays in the folder the configuration names), a bounded length.
 */
static const char *ngx_http_auth_jwtv_refuse_path(ngx_str_t *path) {
    if (path->len == 0) {
        return "it is empty";
    }
    if (path->len > AUTH_JWTV_MAX_KEY_PATH) {
        return "it is too long";
    }
    for (size_t i = 0; i < path->len; i++) {
        if (path->data[i] < 0x20 || path->data[i] == 0x7f) {
            return "it holds a control byte";
        }
    }
    if (ngx_http_auth_jwtv_has_dotdot(path->data, path->len)) {
        return "it holds a \"..\" segment";
    }
    return NULL;
}

/* The paths of a cache entry, escaped and separated with ", ", for a log line. */
static ngx_str_t ngx_http_auth_jwtv_paths_for_log(ngx_pool_t *pool, const u_char *paths, size_t len) {
    ngx_str_t out = ngx_string("-");
    u_char *p = ngx_pnalloc(pool, 4 * len + 2 * len);

    if (p != NULL) {
        out.data = p;
        for (const u_char *path = paths; path < paths + len; path += ngx_strlen(path) + 1) {
            if (path != paths) {
                p = ngx_cpymem(p, ", ", 2);
            }
            p = ngx_http_auth_jwtv_escape(p, path, ngx_strlen(path));
        }
        out.len = p - out.data;
    }
    return out;
}

/*
 * A verifier for the location's policy plus the key files `paths` (absolute,
 * each NUL-terminated, back to back): the location's rules set as at
 * configuration time (the policy's document; a document without a key
 * source cannot be read back), then one more "jwks_file" source per path.
 * Reads the files now; NULL, logged, when a file cannot be loaded (missing,
 * unreadable, not a JWKS, no usable key).
 */
static jwtv_verifier *ngx_http_auth_jwtv_load_files(ngx_http_request_t *r, ngx_log_t *log,
                                                    ngx_http_auth_jwtv_loc_conf_t *conf, u_char *paths, size_t len) {
    char err[AUTH_JWTV_ERR_LEN] = "";
    jwtv_verifier *verifier = NULL;
    jwtv_policy *policy = NULL;
    ngx_str_t shown, why;
    ngx_uint_t failed;
    jwtv_status rc;

    rc = jwtv_policy_new(&policy);
    if (rc == JWTV_OK) {
        rc = ngx_http_auth_jwtv_set_rules(policy, conf->rules, &failed, err);
    }
    for (u_char *path = paths; rc == JWTV_OK && path < paths + len; path += ngx_strlen(path) + 1) {
        rc = jwtv_policy_add_key_source(policy, "jwks_file", (const char *)path, err, sizeof err);
    }
    if (rc == JWTV_OK) {
        /* Nonblocking, as every verifier of a worker: a URL of the policy is
         * fetched in the background. */
        rc = jwtv_verifier_from_policy(policy, JWTV_NONBLOCKING, &verifier, err, sizeof err);
    }
    jwtv_policy_free(policy);
    if (rc == JWTV_OK) {
        ngx_http_auth_jwtv_file_loads++;
        (void)jwtv_verifier_set_audit_callback(verifier, ngx_http_auth_jwtv_audit, NULL);
        return verifier;
    }
    ngx_http_auth_jwtv_file_failures++;
    shown = ngx_http_auth_jwtv_paths_for_log(r->pool, paths, len);
    why = ngx_http_auth_jwtv_escaped(r->pool, (u_char *)err, ngx_strlen(err), AUTH_JWTV_ERR_LEN);
    if (err[0] == '\0') {
        why.data = (u_char *)jwtv_error_message(rc);
        why.len = ngx_strlen(why.data);
    }
    ngx_log_error(NGX_LOG_ERR, log, 0, "auth_jwt: cannot load the key file \"%V\": %V, client: %V", &shown, &why,
                  &r->connection->addr_text);
    return NULL;
}

/* The cache entry for (policy, paths), or NULL. */
static ngx_http_auth_jwtv_file_verifier_t *ngx_http_auth_jwtv_file_find(ngx_int_t policy, u_char *paths,
                                                                          size_t len) {
    ngx_http_auth_jwtv_file_verifier_t *e = ngx_http_auth_jwtv_file_verifiers;

    for (ngx_uint_t i = 0; i < AUTH_JWTV_FILE_CACHE; i++) {
        if (e[i].paths != NULL && e[i].policy == policy && e[i].len == len && ngx_memcmp(e[i].paths, paths, len) == 0) {
            return &e[i];
        }
    }
    return NULL;
}

/* The entry a new one replaces: a free one, else the least recently used
 * failure, else the least recently used verifier. */
static ngx_http_auth_jwtv_file_verifier_t *ngx_http_auth_jwtv_file_victim(void) {
    ngx_http_auth_jwtv_file_verifier_t *e = ngx_http_auth_jwtv_file_verifiers, *victim = NULL;

    for (ngx_uint_t i = 0; i < AUTH_JWTV_FILE_CACHE; i++) {
        if (e[i].paths == NULL) {
            return &e[i];
        }
        if (victim == NULL || (e[i].verifier == NULL && victim->verifier != NULL) ||
            ((e[i].verifier == NULL) == (victim->verifier == NULL) && e[i].used < victim->used)) {
            victim = &e[i];
        }
    }
    return victim;
}

static void ngx_http_auth_jwtv_file_drop(ngx_http_auth_jwtv_file_verifier_t *e) {
    jwtv_verifier_free(e->verifier);
    ngx_free(e->paths);
    ngx_memzero(e, sizeof(ngx_http_auth_jwtv_file_verifier_t));
}

/*
 * The verifier of a location with auth_jwt_key_file paths with variables:
 * each path evaluated, checked (ngx_http_auth_jwtv_refuse_path) and made
 * absolute against the configuration prefix, as a fixed path is; then the
 * worker's verifier for (the location's policy, these paths), made from the
 * files on the first request that names them. NGX_ERROR (the request gets
 * 500) for a refused path or a file that cannot be loaded: the location has
 * no keys to verify with, and the client cannot fix that.
 */
static ngx_int_t ngx_http_auth_jwtv_file_verifier(ngx_http_request_t *r, ngx_http_auth_jwtv_loc_conf_t *conf,
                                                  ngx_log_t *log, jwtv_verifier **out) {
    ngx_array_t *files = conf->rules[AUTH_JWTV_KEY_FILE].files;
    ngx_http_complex_value_t *cv = files->elts;
    ngx_http_auth_jwtv_file_verifier_t *e;
    ngx_str_t *path, shown;
    jwtv_verifier *verifier;
    const char *why;
    size_t len = 0;
    u_char *paths, *p;

    if (conf->policy < 0) {
        return NGX_ERROR;
    }
    path = ngx_palloc(r->pool, files->nelts * sizeof(ngx_str_t));
    if (path == NULL) {
        return NGX_ERROR;
    }
    for (ngx_uint_t i = 0; i < files->nelts; i++) {
        if (ngx_http_complex_value(r, &cv[i], &path[i]) != NGX_OK) {
            return NGX_ERROR;
        }
        why = ngx_http_auth_jwtv_refuse_path(&path[i]);
        if (why == NULL) {
            if (ngx_get_full_name(r->pool, &ngx_http_auth_jwtv_prefix, &path[i]) != NGX_OK) {
                return NGX_ERROR;
            }
            why = path[i].len > AUTH_JWTV_MAX_KEY_PATH ? "it is too long" : NULL;
        }
        if (why != NULL) {
            ngx_http_auth_jwtv_file_refusals++;
            shown = ngx_http_auth_jwtv_escaped(r->pool, path[i].data, path[i].len, 256);
            ngx_log_error(NGX_LOG_ERR, log, 0, "auth_jwt: key file \"%V\" not read: %s, client: %V", &shown, why,
                          &r->connection->addr_text);
            return NGX_ERROR;
        }
        len += path[i].len + 1;
    }
    paths = ngx_pnalloc(r->pool, len);
    if (paths == NULL) {
        return NGX_ERROR;
    }
    p = paths;
    for (ngx_uint_t i = 0; i < files->nelts; i++) {
        p = ngx_cpymem(p, path[i].data, path[i].len);
        *p++ = '\0';
    }

    e = ngx_http_auth_jwtv_file_find(conf->policy, paths, len);
    if (e != NULL && (e->verifier != NULL || ngx_current_msec - e->failed < AUTH_JWTV_FILE_RETRY_MSEC)) {
        e->used = ++ngx_http_auth_jwtv_file_clock;
        *out = e->verifier;
        return e->verifier != NULL ? NGX_OK : NGX_ERROR;
    }
    verifier = ngx_http_auth_jwtv_load_files(r, log, conf, paths, len);
    if (e == NULL) { /* else a failure, tried again: the same entry */
        e = ngx_http_auth_jwtv_file_victim();
        ngx_http_auth_jwtv_file_drop(e);
        e->paths = ngx_alloc(len, ngx_cycle->log);
        if (e->paths == NULL) {
            jwtv_verifier_free(verifier);
            return NGX_ERROR;
        }
        ngx_memcpy(e->paths, paths, len);
        e->len = len;
        e->policy = conf->policy;
    }
    e->verifier = verifier;
    e->failed = ngx_current_msec;
    e->used = ++ngx_http_auth_jwtv_file_clock;
    *out = verifier;
    return verifier != NULL ? NGX_OK : NGX_ERROR;
}

static ngx_int_t ngx_http_auth_jwtv_handler(ngx_http_request_t *r) {
    ngx_http_auth_jwtv_loc_conf_t *conf;
    ngx_http_auth_jwtv_ctx_t *ctx;
    ngx_pool_cleanup_t *cln;
    jwtv_verifier *verifier;
    ngx_str_t token;
    ngx_log_t log;
    char detail[64];

    conf = ngx_http_get_module_loc_conf(r, ngx_http_auth_jwtv_module);
    if (conf->enabled != 1 || r != r->main) {
        return NGX_DECLINED;
    }
    ctx = ngx_http_get_module_ctx(r, ngx_http_auth_jwtv_module);
    if (ctx != NULL) {
        return ctx->rc;
    }
    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_auth_jwtv_ctx_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (ctx == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    cln->handler = ngx_http_auth_jwtv_cleanup;
    cln->data = ctx;
    ngx_http_set_ctx(r, ctx, ngx_http_auth_jwtv_module);

    if (ngx_http_auth_jwtv_token(r, conf, &token) != NGX_OK) {
        ctx->rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return ctx->rc;
    }
    if (token.len == 0) {
        /* Counted for jwtv_requests_without_token_total (the location's verifier). */
        if (conf->policy >= 0 && (ngx_uint_t)conf->policy < ngx_http_auth_jwtv_nverifiers &&
            ngx_http_auth_jwtv_verifiers[conf->policy] != NULL) {
            (void)jwtv_verifier_record_no_token(ngx_http_auth_jwtv_verifiers[conf->policy]);
        }
        ctx->rc = ngx_http_auth_jwtv_reject(r, conf, NULL);
        return ctx->rc;
    }
    ngx_http_auth_jwtv_log(r, &log);
    if (conf->rules[AUTH_JWTV_KEY_FILE].files != NULL) {
        /* Logged there, path escaped; never a verifier without those keys. */
        if (ngx_http_auth_jwtv_file_verifier(r, conf, &log, &verifier) != NGX_OK) {
            ctx->rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
            return ctx->rc;
        }
    } else if (conf->policy < 0 || (ngx_uint_t)conf->policy >= ngx_http_auth_jwtv_nverifiers ||
               (verifier = ngx_http_auth_jwtv_verifiers[conf->policy]) == NULL) {
        ngx_log_error(NGX_LOG_ERR, &log, 0, "auth_jwt: no verifier for this location (see startup errors), client: %V",
                      &r->connection->addr_text);
        ctx->rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return ctx->rc;
    }

    ngx_http_auth_jwtv_audited = r;
    ctx->status = jwtv_verifier_verify(verifier, token.data, token.len, 0, &ctx->token, detail, sizeof detail);
    ngx_http_auth_jwtv_audited = NULL;
    if (ctx->status == JWTV_OK) {
        ctx->rc = conf->require != NULL ? ngx_http_auth_jwtv_check_require(r, conf, &log) : NGX_OK;
        return ctx->rc;
    }
    /* Never log the token: its length, the reason and the audit event's
     * fields (escaped by libjwtv) are enough. */
    ngx_log_error(NGX_LOG_INFO, &log, 0, "auth_jwt: token %s: %s%s%s (%uz bytes)%V, client: %V",
                  ctx->status == JWTV_UNAVAILABLE ? "not checked" : "rejected", jwtv_error_name(ctx->status),
                  detail[0] ? " " : "", detail, token.len, &ctx->audit, &r->connection->addr_text);
    if (ctx->status == JWTV_UNAVAILABLE) {
        ctx->rc = ngx_http_auth_jwtv_unavailable(r);
    } else {
        ctx->rc = ngx_http_auth_jwtv_reject(r, conf, jwtv_error_name(ctx->status));
    }
    return ctx->rc;
}

/* ---- the status zone ---- */

/* In this worker: what it publishes, [0] the module's own counters and
 * [1 + i] policy i's verifier; NULL when it has no zone. */
static ngx_http_auth_jwtv_pub_t *ngx_http_auth_jwtv_pubs;
static ngx_uint_t ngx_http_auth_jwtv_npubs;
static ngx_slab_pool_t *ngx_http_auth_jwtv_shpool;
static ngx_event_t ngx_http_auth_jwtv_publish_ev;
static ngx_event_t ngx_http_auth_jwtv_changes_ev;

/* A policy's key in the zone: its document and file, hashed (FNV-1a). A
 * reload that keeps a policy as it is keeps its counters. */
static uint64_t ngx_http_auth_jwtv_key(ngx_http_auth_jwtv_policy_t *policy) {
    ngx_str_t *part[2] = {&policy->json, &policy->file};
    uint64_t h = 0xcbf29ce484222325ULL;

    for (ngx_uint_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < part[k]->len; i++) {
            h = (h ^ part[k]->data[i]) * 0x100000001b3ULL;
        }
        h = (h ^ 0xff) * 0x100000001b3ULL; /* a byte UTF-8 never holds, between the two */
    }
    return h != 0 ? h : 1;
}

/* The record of `key` with `len` words of the layout `empty` names (NULL:
 * the module's own counters), made when missing. Under the lock. */
static ngx_http_auth_jwtv_record_t *ngx_http_auth_jwtv_record(ngx_slab_pool_t *shpool, ngx_http_auth_jwtv_zone_t *sh,
                                                              uint64_t key, size_t len, const uint64_t *empty) {
    uint64_t layout = empty != NULL ? empty[0] : 0;
    ngx_http_auth_jwtv_record_t *rec;

    for (rec = sh->records; rec != NULL; rec = rec->next) {
        if (rec->key == key && rec->len == len && rec->retired[0] == layout) {
            return rec;
        }
    }
    rec = ngx_slab_calloc_locked(shpool, offsetof(ngx_http_auth_jwtv_record_t, retired) + len * sizeof(uint64_t));
    if (rec == NULL) {
        return NULL;
    }
    rec->key = key;
    rec->len = len;
    if (empty != NULL) {
        ngx_memcpy(rec->retired, empty, len * sizeof(uint64_t));
    }
    rec->next = sh->records;
    sh->records = rec;
    return rec;
}

/* Adds a worker's words to its record's retired accumulator (word 0, the
 * layout, aside). Under the lock. */
static void ngx_http_auth_jwtv_fold(ngx_http_auth_jwtv_record_t *rec, const uint64_t *words) {
    for (size_t i = 1; i < rec->len; i++) {
        rec->retired[i] += words[i];
    }
}

/* Unlinks and frees a slot after adding its words to the retired ones: its
 * worker ended, or was killed. Under the lock. */
static void ngx_http_auth_jwtv_retire(ngx_slab_pool_t *shpool, ngx_http_auth_jwtv_record_t *rec,
                                      ngx_http_auth_jwtv_slot_t *slot) {
    ngx_http_auth_jwtv_slot_t **link = &rec->slots;

    while (*link != NULL && *link != slot) {
        link = &(*link)->next;
    }
    if (slot != NULL && *link == slot) {
        *link = slot->next;
        ngx_http_auth_jwtv_fold(rec, slot->words);
        ngx_slab_free_locked(shpool, slot);
    }
    if (rec->users > 0) {
        rec->users--;
    }
}

/* Retires the slots of workers that are gone without retiring them (killed)
 * and, at a worker's start, one left under its pid (`stale`) by a former
 * worker. Under the lock. */
static void ngx_http_auth_jwtv_reap(ngx_slab_pool_t *shpool, ngx_http_auth_jwtv_record_t *rec, ngx_pid_t stale) {
    ngx_http_auth_jwtv_slot_t *slot = rec->slots, *next;

    for (; slot != NULL; slot = next) {
        next = slot->next;
        if (slot->pid == stale || (kill(slot->pid, 0) == -1 && ngx_errno == NGX_ESRCH)) {
            ngx_http_auth_jwtv_retire(shpool, rec, slot);
        }
    }
}

/*
 * The zone of a new configuration, in the master: reused across reloads when
 * its size is the same, so a policy kept as it is keeps its record and its
 * counters go on. Records of policies the configuration no longer names are
 * freed once no worker publishes there.
 */
static ngx_int_t ngx_http_auth_jwtv_init_zone(ngx_shm_zone_t *zone, void *data) {
    ngx_http_auth_jwtv_main_conf_t *mcf = zone->data;
    ngx_slab_pool_t *shpool = (ngx_slab_pool_t *)zone->shm.addr;
    ngx_http_auth_jwtv_policy_t *policy = mcf->policies.elts;
    ngx_http_auth_jwtv_record_t **link, *rec;
    ngx_http_auth_jwtv_zone_t *sh;
    ngx_uint_t named;
    ngx_int_t rc = NGX_OK;

    if (data != NULL || zone->shm.exists) {
        sh = shpool->data;
        if (sh->version != AUTH_JWTV_ZONE_VERSION) {
            ngx_log_error(NGX_LOG_EMERG, zone->shm.log, 0,
                          "auth_jwt: the zone \"%V\" was made by another version of the module: restart nginx",
                          &zone->shm.name);
            return NGX_ERROR;
        }
    } else {
        sh = ngx_slab_calloc(shpool, sizeof(ngx_http_auth_jwtv_zone_t));
        if (sh == NULL) {
            return NGX_ERROR;
        }
        sh->version = AUTH_JWTV_ZONE_VERSION;
        shpool->data = sh;
        shpool->log_nomem = 0; /* a full zone is logged once by each worker it affects */
    }
    ngx_shmtx_lock(&shpool->mutex);
    mcf->own = ngx_http_auth_jwtv_record(shpool, sh, 0, AUTH_JWTV_OWN_WORDS, NULL);
    rc = mcf->own != NULL ? NGX_OK : NGX_ERROR;
    for (ngx_uint_t i = 0; i < mcf->policies.nelts && rc == NGX_OK; i++) {
        if (policy[i].alone) {
            policy[i].record =
                ngx_http_auth_jwtv_record(shpool, sh, ngx_http_auth_jwtv_key(&policy[i]), mcf->words, mcf->empty);
            rc = policy[i].record != NULL ? NGX_OK : NGX_ERROR;
        }
    }
    for (link = &sh->records; (rec = *link) != NULL;) {
        ngx_http_auth_jwtv_reap(shpool, rec, NGX_INVALID_PID);
        named = rec == mcf->own;
        for (ngx_uint_t i = 0; i < mcf->policies.nelts; i++) {
            named |= policy[i].record == rec;
        }
        if (!named && rec->users == 0) {
            *link = rec->next;
            ngx_slab_free_locked(shpool, rec);
        } else {
            link = &rec->next;
        }
    }
    ngx_shmtx_unlock(&shpool->mutex);
    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_EMERG, zone->shm.log, 0, "auth_jwt: the zone \"%V\" is full: raise auth_jwt_status_zone",
                      &zone->shm.name);
    }
    return rc;
}

/* The module's own counters in this worker. */
static void ngx_http_auth_jwtv_own_words(uint64_t *words) {
    uint64_t held = 0;

    for (ngx_uint_t i = 0; i < AUTH_JWTV_FILE_CACHE; i++) {
        held += ngx_http_auth_jwtv_file_verifiers[i].verifier != NULL;
    }
    words[0] = 0;
    words[AUTH_JWTV_OWN_REFUSED] = ngx_http_auth_jwtv_refused;
    words[AUTH_JWTV_OWN_LOADS] = ngx_http_auth_jwtv_file_loads;
    words[AUTH_JWTV_OWN_FAILURES] = ngx_http_auth_jwtv_file_failures;
    words[AUTH_JWTV_OWN_REFUSALS] = ngx_http_auth_jwtv_file_refusals;
    words[AUTH_JWTV_OWN_HELD] = held;
}

/* Takes what `pub` publishes, without the lock: its verifier's snapshot (a
 * libjwtv call), or the module's own counters. On failure, the last words
 * again. */
static void ngx_http_auth_jwtv_take(ngx_http_auth_jwtv_pub_t *pub) {
    if (pub->verifier == NULL) {
        ngx_http_auth_jwtv_own_words(pub->now);
    } else if (jwtv_verifier_snapshot(pub->verifier, pub->now, pub->record->len) != JWTV_OK) {
        ngx_memcpy(pub->now, pub->last, pub->record->len * sizeof(uint64_t));
    }
}

/* Publishes what `pub` took: copied into its slot or, without one, what
 * grew since the last time added to the retired words. Under the lock. */
static void ngx_http_auth_jwtv_put(ngx_http_auth_jwtv_pub_t *pub) {
    ngx_http_auth_jwtv_record_t *rec = pub->record;

    if (pub->slot != NULL) {
        ngx_memcpy(pub->slot->words, pub->now, rec->len * sizeof(uint64_t));
    } else {
        for (size_t i = 1; i < rec->len; i++) {
            rec->retired[i] += pub->now[i] - pub->last[i];
        }
    }
    ngx_memcpy(pub->last, pub->now, rec->len * sizeof(uint64_t));
}

/* Logs the state changes `verifier` has to report (a key server failing or
 * back, a revocation list out of sync or back), each once: warn for a
 * failure, notice for a recovery. The messages come escaped from libjwtv. */
static void ngx_http_auth_jwtv_log_changes(ngx_log_t *log, jwtv_verifier *verifier) {
    char message[2048];
    size_t len;
    bool failing;
    ngx_uint_t level;

    if (verifier == NULL) {
        return;
    }
    /* A bound, so that a flood of changes cannot hold the event loop. */
    for (int i = 0; i < 64; i++) {
        jwtv_status rc = jwtv_verifier_take_state_change(verifier, message, sizeof message, &len, &failing);
        if (rc == JWTV_BUFFER_TOO_SMALL) {
            /* Longer than the buffer: taken whole into one of its length, never cut. */
            char *whole = ngx_alloc(len + 1, log);
            if (whole == NULL ||
                jwtv_verifier_take_state_change(verifier, whole, len + 1, &len, &failing) != JWTV_OK) {
                if (whole != NULL) {
                    ngx_free(whole);
                }
                return;
            }
            level = failing ? NGX_LOG_WARN : NGX_LOG_NOTICE;
            ngx_log_error(level, log, 0, "auth_jwt: %s", whole);
            ngx_free(whole);
            continue;
        }
        if (rc != JWTV_OK || len == 0) {
            return;
        }
        level = failing ? NGX_LOG_WARN : NGX_LOG_NOTICE;
        ngx_log_error(level, log, 0, "auth_jwt: %s", message);
    }
}

/* Every second: the state changes of this worker's verifiers to the error log. */
static void ngx_http_auth_jwtv_changes_handler(ngx_event_t *ev) {
    for (ngx_uint_t i = 0; i < ngx_http_auth_jwtv_nverifiers; i++) {
        ngx_http_auth_jwtv_log_changes(ev->log, ngx_http_auth_jwtv_verifiers[i]);
    }
    for (ngx_uint_t i = 0; i < AUTH_JWTV_FILE_CACHE; i++) {
        ngx_http_auth_jwtv_log_changes(ev->log, ngx_http_auth_jwtv_file_verifiers[i].verifier);
    }
    ngx_add_timer(ev, AUTH_JWTV_PUBLISH_MSEC); /* cancelable: it never holds a worker that is shutting down */
}

/* This worker's counters to the zone: every snapshot taken outside the
 * lock, then copied under it; a worker that leaves also retires its slots. */
static void ngx_http_auth_jwtv_publish(ngx_uint_t leaving) {
    ngx_http_auth_jwtv_pub_t *pub = ngx_http_auth_jwtv_pubs;

    for (ngx_uint_t i = 0; i < ngx_http_auth_jwtv_npubs; i++) {
        if (pub[i].record != NULL) {
            ngx_http_auth_jwtv_take(&pub[i]);
        }
    }
    ngx_shmtx_lock(&ngx_http_auth_jwtv_shpool->mutex);
    for (ngx_uint_t i = 0; i < ngx_http_auth_jwtv_npubs; i++) {
        if (pub[i].record != NULL) {
            ngx_http_auth_jwtv_put(&pub[i]);
            if (leaving) {
                ngx_http_auth_jwtv_retire(ngx_http_auth_jwtv_shpool, pub[i].record, pub[i].slot);
            }
        }
    }
    ngx_shmtx_unlock(&ngx_http_auth_jwtv_shpool->mutex);
}

/* Every second: this worker's counters to the zone. */
static void ngx_http_auth_jwtv_publish_handler(ngx_event_t *ev) {
    ngx_http_auth_jwtv_publish(0);
    ngx_add_timer(ev, AUTH_JWTV_PUBLISH_MSEC); /* cancelable: it never holds a worker that is shutting down */
}

/*
 * A worker joins the zone, after making its verifiers: a slot in its
 * policies' records and in the module's, holding its first words, and the
 * timer that publishes them. Without room for a slot its counters still
 * count: they are added to the retired words as they grow (only its gauges
 * are missing from scrapes).
 */
static ngx_int_t ngx_http_auth_jwtv_join(ngx_cycle_t *cycle, ngx_http_auth_jwtv_main_conf_t *mcf) {
    ngx_http_auth_jwtv_policy_t *policy = mcf->policies.elts;
    ngx_http_auth_jwtv_record_t *rec;
    ngx_http_auth_jwtv_pub_t *pub;
    ngx_slab_pool_t *shpool;
    ngx_uint_t n = mcf->policies.nelts + 1, full = 0;

    if (mcf->zone == NULL || mcf->own == NULL) {
        return NGX_OK;
    }
    pub = ngx_pcalloc(cycle->pool, n * sizeof(ngx_http_auth_jwtv_pub_t));
    if (pub == NULL) {
        return NGX_ERROR;
    }
    for (ngx_uint_t i = 0; i < n; i++) {
        if (i > 0 && (i > ngx_http_auth_jwtv_nverifiers || ngx_http_auth_jwtv_verifiers[i - 1] == NULL)) {
            continue; /* no verifier: nothing to publish */
        }
        pub[i].record = i == 0 ? mcf->own : policy[i - 1].record;
        pub[i].verifier = i == 0 ? NULL : ngx_http_auth_jwtv_verifiers[i - 1];
        if (pub[i].record == NULL) {
            continue;
        }
        pub[i].now = ngx_pcalloc(cycle->pool, 2 * pub[i].record->len * sizeof(uint64_t));
        if (pub[i].now == NULL) {
            return NGX_ERROR;
        }
        pub[i].last = pub[i].now + pub[i].record->len;
        ngx_http_auth_jwtv_take(&pub[i]);
    }
    shpool = (ngx_slab_pool_t *)mcf->zone->shm.addr;
    ngx_shmtx_lock(&shpool->mutex);
    for (ngx_uint_t i = 0; i < n; i++) {
        if ((rec = pub[i].record) == NULL) {
            continue;
        }
        ngx_http_auth_jwtv_reap(shpool, rec, ngx_pid);
        rec->users++;
        pub[i].slot =
            ngx_slab_alloc_locked(shpool, offsetof(ngx_http_auth_jwtv_slot_t, words) + rec->len * sizeof(uint64_t));
        if (pub[i].slot != NULL) {
            pub[i].slot->pid = ngx_pid;
            pub[i].slot->next = rec->slots;
            rec->slots = pub[i].slot;
        } else {
            full = 1;
        }
        ngx_http_auth_jwtv_put(&pub[i]);
    }
    ngx_shmtx_unlock(&shpool->mutex);
    if (full) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "auth_jwt: the zone \"%V\" is full: this worker's counters are still counted, its gauges "
                      "are left out of auth_jwt_status; raise auth_jwt_status_zone",
                      &mcf->zone->shm.name);
    }
    ngx_http_auth_jwtv_pubs = pub;
    ngx_http_auth_jwtv_npubs = n;
    ngx_http_auth_jwtv_shpool = shpool;
    ngx_http_auth_jwtv_publish_ev.handler = ngx_http_auth_jwtv_publish_handler;
    ngx_http_auth_jwtv_publish_ev.log = cycle->log;
    ngx_http_auth_jwtv_publish_ev.cancelable = 1;
    ngx_add_timer(&ngx_http_auth_jwtv_publish_ev, AUTH_JWTV_PUBLISH_MSEC);
    return NGX_OK;
}

/* A worker that ends adds its last words to the retired ones, before its
 * verifiers are freed: its counts stay in the sum, once. */
static void ngx_http_auth_jwtv_leave(void) {
    if (ngx_http_auth_jwtv_pubs == NULL) {
        return;
    }
    ngx_http_auth_jwtv_publish(1);
    ngx_http_auth_jwtv_pubs = NULL;
    ngx_http_auth_jwtv_npubs = 0;
}

/* Copies a record's words for a scrape into `sum`: this worker's, then every
 * other running worker's, and the retired words without what this worker
 * added there itself (it has no slot). Under the lock. */
static ngx_int_t ngx_http_auth_jwtv_collect(ngx_pool_t *pool, ngx_http_auth_jwtv_pub_t *pub,
                                            ngx_http_auth_jwtv_sum_t *sum) {
    ngx_http_auth_jwtv_record_t *rec = pub->record;
    ngx_http_auth_jwtv_slot_t *slot;
    size_t len = rec->len, n = 1;

    ngx_http_auth_jwtv_reap(ngx_http_auth_jwtv_shpool, rec, NGX_INVALID_PID);
    for (slot = rec->slots; slot != NULL; slot = slot->next) {
        n += slot != pub->slot;
    }
    sum->live = ngx_palloc(pool, (n + 1) * len * sizeof(uint64_t));
    if (sum->live == NULL) {
        return NGX_ERROR;
    }
    sum->retired = sum->live + n * len;
    ngx_memcpy(sum->live, pub->last, len * sizeof(uint64_t));
    sum->count = 1;
    for (slot = rec->slots; slot != NULL; slot = slot->next) {
        if (slot != pub->slot) {
            ngx_memcpy(sum->live + sum->count++ * len, slot->words, len * sizeof(uint64_t));
        }
    }
    ngx_memcpy(sum->retired, rec->retired, len * sizeof(uint64_t));
    for (size_t i = 1; i < len && pub->slot == NULL; i++) {
        sum->retired[i] -= pub->last[i];
    }
    return NGX_OK;
}

/* For a scrape: this worker's words published afresh, then the module's
 * own and the policy's (`pub`, NULL: none) collected, in one hold of the
 * lock (the libjwtv call comes before). */
static ngx_int_t ngx_http_auth_jwtv_scrape(ngx_pool_t *pool, ngx_http_auth_jwtv_pub_t *pub,
                                           ngx_http_auth_jwtv_sum_t *own, ngx_http_auth_jwtv_sum_t *sum) {
    ngx_http_auth_jwtv_pub_t *mine = &ngx_http_auth_jwtv_pubs[0];
    ngx_int_t rc;

    ngx_http_auth_jwtv_take(mine);
    if (pub != NULL) {
        ngx_http_auth_jwtv_take(pub);
    }
    ngx_shmtx_lock(&ngx_http_auth_jwtv_shpool->mutex);
    ngx_http_auth_jwtv_put(mine);
    rc = ngx_http_auth_jwtv_collect(pool, mine, own);
    if (pub != NULL && rc == NGX_OK) {
        ngx_http_auth_jwtv_put(pub);
        rc = ngx_http_auth_jwtv_collect(pool, pub, sum);
    }
    ngx_shmtx_unlock(&ngx_http_auth_jwtv_shpool->mutex);
    return rc;
}

/* The Prometheus text of a policy's verifier: with the zone, of the sum of
 * the workers' words (`pub`, `sum`); without it, of this worker's alone. */
static jwtv_status ngx_http_auth_jwtv_render(jwtv_verifier *verifier, ngx_http_auth_jwtv_pub_t *pub,
                                             ngx_http_auth_jwtv_sum_t *sum, char *buf, size_t cap, size_t *len_out) {
    if (pub == NULL) {
        return jwtv_verifier_metrics_prometheus(verifier, buf, cap, len_out);
    }
    return jwtv_verifier_metrics_prometheus_sum(verifier, sum->live, sum->count, pub->record->len, sum->retired, buf,
                                                cap, len_out);
}

/*
 * auth_jwt_status: the metrics of the location's policy and the module's own
 * counters, summed over the workers: this worker's published afresh, the
 * others' as they last published them (at most a second ago), plus what
 * workers that ended left.
 */
static ngx_int_t ngx_http_auth_jwtv_status_handler(ngx_http_request_t *r) {
    ngx_http_auth_jwtv_loc_conf_t *conf;
    ngx_http_auth_jwtv_pub_t *pub = NULL;
    ngx_http_auth_jwtv_sum_t own_sum = {NULL, 0, NULL}, sum = {NULL, 0, NULL};
    uint64_t counters[AUTH_JWTV_OWN_WORDS];
    jwtv_verifier *verifier;
    ngx_buf_t *b;
    ngx_chain_t out;
    size_t len = 0;
    ngx_int_t rc;
    static const char own[] =
        "# HELP jwtv_nginx_refused_values_total Token values left out of $jwt_ variables: they hold control bytes.\n"
        "# TYPE jwtv_nginx_refused_values_total counter\n"
        "jwtv_nginx_refused_values_total %uL\n"
        "# HELP jwtv_nginx_key_file_loads_total Loads of key files named with variables, by result (refused: the "
        "path was not read).\n"
        "# TYPE jwtv_nginx_key_file_loads_total counter\n"
        "jwtv_nginx_key_file_loads_total{result=\"ok\"} %uL\n"
        "jwtv_nginx_key_file_loads_total{result=\"failed\"} %uL\n"
        "jwtv_nginx_key_file_loads_total{result=\"refused\"} %uL\n"
        "# HELP jwtv_nginx_key_file_verifiers Verifiers held for key files named with variables.\n"
        "# TYPE jwtv_nginx_key_file_verifiers gauge\n"
        "jwtv_nginx_key_file_verifiers %uL\n";

    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }
    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }
    conf = ngx_http_get_module_loc_conf(r, ngx_http_auth_jwtv_module);
    if (conf->rules[AUTH_JWTV_KEY_FILE].files != NULL) {
        verifier = NULL; /* one verifier per set of files: the module's counters only */
    } else if (conf->policy < 0 || (ngx_uint_t)conf->policy >= ngx_http_auth_jwtv_nverifiers ||
               (verifier = ngx_http_auth_jwtv_verifiers[conf->policy]) == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (ngx_http_auth_jwtv_pubs != NULL) {
        if (verifier != NULL && ngx_http_auth_jwtv_pubs[conf->policy + 1].record != NULL) {
            pub = &ngx_http_auth_jwtv_pubs[conf->policy + 1];
        }
        if (ngx_http_auth_jwtv_scrape(r->pool, pub, &own_sum, &sum) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        /* Counters: every worker's, the retired ones included; verifiers held: the running workers'. */
        for (ngx_uint_t i = 1; i < AUTH_JWTV_OWN_WORDS; i++) {
            counters[i] = i == AUTH_JWTV_OWN_HELD ? 0 : own_sum.retired[i];
            for (size_t w = 0; w < own_sum.count; w++) {
                counters[i] += own_sum.live[w * AUTH_JWTV_OWN_WORDS + i];
            }
        }
    } else {
        ngx_http_auth_jwtv_own_words(counters); /* no zone: this worker's */
    }
    if (verifier != NULL && ngx_http_auth_jwtv_render(verifier, pub, &sum, NULL, 0, &len) != JWTV_BUFFER_TOO_SMALL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    b = ngx_create_temp_buf(r->pool, len + 1 + sizeof(own) + 5 * NGX_INT64_LEN);
    if (b == NULL ||
        (verifier != NULL && ngx_http_auth_jwtv_render(verifier, pub, &sum, (char *)b->pos, len + 1, NULL) != JWTV_OK)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    /* The module's own counters after the verifier's. */
    b->last = ngx_sprintf(b->pos + len, own, counters[AUTH_JWTV_OWN_REFUSED], counters[AUTH_JWTV_OWN_LOADS],
                          counters[AUTH_JWTV_OWN_FAILURES], counters[AUTH_JWTV_OWN_REFUSALS],
                          counters[AUTH_JWTV_OWN_HELD]);
    len = b->last - b->pos;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = len;
    ngx_str_set(&r->headers_out.content_type, "text/plain; version=0.0.4");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }
    out.buf = b;
    out.next = NULL;
    return ngx_http_output_filter(r, &out);
}

/* ---- configuration ---- */

static void *ngx_http_auth_jwtv_create_main_conf(ngx_conf_t *cf) {
    ngx_http_auth_jwtv_main_conf_t *mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_auth_jwtv_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }
    if (ngx_array_init(&mcf->policies, cf->pool, 4, sizeof(ngx_http_auth_jwtv_policy_t)) != NGX_OK) {
        return NULL;
    }
    mcf->zone_size = NGX_CONF_UNSET_SIZE;
    return mcf;
}

static void *ngx_http_auth_jwtv_create_loc_conf(ngx_conf_t *cf) {
    ngx_http_auth_jwtv_loc_conf_t *conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_auth_jwtv_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }
    /* ngx_pcalloc left the strings empty and the rules and policy NULL (unset). */
    conf->enabled = NGX_CONF_UNSET;
    conf->token = NGX_CONF_UNSET_PTR;
    conf->require = NGX_CONF_UNSET_PTR;
    conf->status = NGX_CONF_UNSET;
    conf->policy = -1;
    return conf;
}

static void ngx_http_auth_jwtv_free_policy(void *data) { jwtv_policy_free(data); }

/* Hands a policy to the cycle's pool, which frees it with the configuration
 * (one that failed, or the one a reload replaces). Workers inherit it: a
 * policy holds no thread. */
static jwtv_policy *ngx_http_auth_jwtv_keep(ngx_conf_t *cf, jwtv_policy *policy) {
    ngx_pool_cleanup_t *cln = ngx_pool_cleanup_add(cf->cycle->pool, 0);
    if (cln == NULL) {
        jwtv_policy_free(policy);
        return NULL;
    }
    cln->handler = ngx_http_auth_jwtv_free_policy;
    cln->data = policy;
    return policy;
}

/* Reports a configuration error naming the directive and, in libjwtv's
 * message, the policy field ("field.path: what"). */
static char *ngx_http_auth_jwtv_failed(ngx_conf_t *cf, ngx_str_t *directive, jwtv_status rc, const char *err) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" directive: %s", directive,
                       err[0] != '\0' ? err : jwtv_error_message(rc));
    return NGX_CONF_ERROR;
}

/*
 * auth_jwt_key_file, auth_jwt_key_url (auth_jwt_key_request) and
 * auth_jwt_issuer_discovery may be given any number of times, together: one
 * source is the policy's key source, several are merged into one key set
 * (keys.sources).
 */
static ngx_uint_t ngx_http_auth_jwtv_is_key_source(ngx_uint_t rule) {
    return rule == AUTH_JWTV_KEY_FILE || rule == AUTH_JWTV_KEY_URL || rule == AUTH_JWTV_KEY_DISCOVERY;
}

/* Sets a rule's words in a policy; on failure err says why, naming the field. */
static jwtv_status ngx_http_auth_jwtv_apply(jwtv_policy *p, ngx_http_auth_jwtv_field_t *field, ngx_str_t *words,
                                            ngx_uint_t n, char err[AUTH_JWTV_ERR_LEN]) {
    jwtv_status rc = JWTV_OK;

    for (ngx_uint_t i = 0; i < n && rc == JWTV_OK; i++) {
        const char *word = (const char *)words[i].data;
        switch (field->kind) {
        case AUTH_JWTV_LIST:
            rc = jwtv_policy_add_string(p, field->path, word, err, AUTH_JWTV_ERR_LEN);
            break;
        case AUTH_JWTV_CLAIM: /* a name, then its value (json=… for a number or boolean) or none */
            i++;
            if (words[i].data == NULL) {
                rc = jwtv_policy_add_string(p, "required_claims", word, err, AUTH_JWTV_ERR_LEN);
            } else if (words[i].len > 5 && ngx_strncmp(words[i].data, "json=", 5) == 0) {
                rc = jwtv_policy_set_member_json(p, "required_claim_values", word, (const char *)words[i].data + 5, err,
                                                 AUTH_JWTV_ERR_LEN);
            } else {
                rc = jwtv_policy_set_member(p, "required_claim_values", word, (const char *)words[i].data, err,
                                            AUTH_JWTV_ERR_LEN);
            }
            break;
        case AUTH_JWTV_SECONDS:
        case AUTH_JWTV_NUMBER:
            rc = jwtv_policy_set(p, field->path, word, err, AUTH_JWTV_ERR_LEN);
            break;
        case AUTH_JWTV_KEY_SOURCE: /* "keys.jwks_file" → "jwks_file" */
            rc = jwtv_policy_add_key_source(p, field->path + sizeof("keys.") - 1, word, err, AUTH_JWTV_ERR_LEN);
            break;
        default:
            rc = jwtv_policy_set_string(p, field->path, word, err, AUTH_JWTV_ERR_LEN);
        }
    }
    if (rc != JWTV_OK && err[0] == '\0') { /* a word libjwtv could not read as text (not UTF-8) */
        *ngx_snprintf((u_char *)err, AUTH_JWTV_ERR_LEN - 1, "%s: %s", field->path, jwtv_error_message(rc)) = '\0';
    }
    return rc;
}

/*
 * Sets a location's merged rules in an empty policy, and without auth_jwt_alg,
 * every algorithm: at configuration time in the location's policy, and in a
 * worker in the policy made for each set of key files named with variables
 * (the same document, plus those files). On failure, *failed is the rule
 * (AUTH_JWTV_NRULES: the default algorithms) and err says why.
 */
static jwtv_status ngx_http_auth_jwtv_set_rules(jwtv_policy *p, ngx_http_auth_jwtv_rule_t *rule, ngx_uint_t *failed,
                                                char err[AUTH_JWTV_ERR_LEN]) {
    jwtv_status rc;

    for (ngx_uint_t i = 0; i < AUTH_JWTV_NRULES; i++) {
        if (rule[i].words != NULL) {
            rc = ngx_http_auth_jwtv_apply(p, &ngx_http_auth_jwtv_fields[i], rule[i].words->elts, rule[i].words->nelts,
                                          err);
            if (rc != JWTV_OK) {
                *failed = i;
                return rc;
            }
        }
    }
    *failed = AUTH_JWTV_NRULES;
    if (rule[AUTH_JWTV_ALG].words != NULL) {
        return JWTV_OK;
    }
    return ngx_http_auth_jwtv_apply(p, &ngx_http_auth_jwtv_fields[AUTH_JWTV_ALG], ngx_http_auth_jwtv_all_algs,
                                    sizeof(ngx_http_auth_jwtv_all_algs) / sizeof(ngx_str_t), err);
}

/* The directive whose field a libjwtv message names ("keys.jwks_file: …"). */
static ngx_str_t *ngx_http_auth_jwtv_directive_of(ngx_http_auth_jwtv_loc_conf_t *conf, const char *err) {
    static ngx_str_t policy = ngx_string("auth_jwt_policy"), auth_jwt = ngx_string("auth_jwt");

    if (conf->policy_file.len > 0) {
        return &policy;
    }
    if (ngx_strncmp(err, "keys.sources", sizeof("keys.sources") - 1) == 0) { /* several key directives */
        ngx_uint_t rule = ngx_strstr(err, ".jwks_url") != NULL           ? AUTH_JWTV_KEY_URL
                          : ngx_strstr(err, ".issuer_discovery") != NULL ? AUTH_JWTV_KEY_DISCOVERY
                                                                          : AUTH_JWTV_KEY_FILE;
        if (conf->rules[rule].words != NULL) {
            return &conf->rules[rule].cmd->name;
        }
    }
    for (ngx_uint_t i = 0; i < AUTH_JWTV_NRULES; i++) {
        size_t len = ngx_strlen(ngx_http_auth_jwtv_fields[i].path);
        if (conf->rules[i].words != NULL && ngx_strncmp(err, ngx_http_auth_jwtv_fields[i].path, len) == 0 &&
            (err[len] == ':' || err[len] == '.' || err[len] == '[')) {
            return &conf->rules[i].cmd->name;
        }
    }
    return &auth_jwt;
}

/* The policy of a merged location, from its file or its rules; checked once
 * per distinct policy (so `nginx -t` reports it) and kept in the main conf. */
static char *ngx_http_auth_jwtv_make_policy(ngx_conf_t *cf, ngx_http_auth_jwtv_loc_conf_t *conf) {
    ngx_http_auth_jwtv_main_conf_t *mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_auth_jwtv_module);
    ngx_http_auth_jwtv_policy_t policy = {NULL, ngx_null_string, conf->policy_file, 0, NULL}, *known;
    ngx_http_auth_jwtv_rule_t *rule = conf->rules;
    char err[AUTH_JWTV_ERR_LEN] = "";
    ngx_uint_t failed;
    jwtv_status rc;

    if (conf->policy_file.len > 0) {
        rc = jwtv_policy_from_file((const char *)conf->policy_file.data, &policy.policy, err, sizeof err);
        if (rc != JWTV_OK) {
            return ngx_http_auth_jwtv_failed(cf, ngx_http_auth_jwtv_directive_of(conf, err), rc, err);
        }
    } else if (jwtv_policy_new(&policy.policy) != JWTV_OK) {
        return NGX_CONF_ERROR;
    }
    if (ngx_http_auth_jwtv_keep(cf, policy.policy) == NULL) {
        return NGX_CONF_ERROR;
    }
    /* No rule goes with a policy file. */
    if (conf->policy_file.len == 0 && ngx_http_auth_jwtv_set_rules(policy.policy, rule, &failed, err) != JWTV_OK) {
        if (failed == AUTH_JWTV_NRULES) {
            return NGX_CONF_ERROR;
        }
        /* Rules given at two levels that do not go together (two key sources). */
        return ngx_http_auth_jwtv_failed(cf, &rule[failed].cmd->name, JWTV_CONFIG_ERROR, err);
    }

    /* Locations whose policies are the same document share one verifier. */
    if (jwtv_policy_to_json(policy.policy, NULL, 0, &policy.json.len) != JWTV_BUFFER_TOO_SMALL ||
        (policy.json.data = ngx_pnalloc(cf->pool, policy.json.len + 1)) == NULL ||
        jwtv_policy_to_json(policy.policy, (char *)policy.json.data, policy.json.len + 1, NULL) != JWTV_OK) {
        return NGX_CONF_ERROR;
    }
    known = mcf->policies.elts;
    for (ngx_uint_t i = 0; i < mcf->policies.nelts; i++) {
        if (known[i].json.len == policy.json.len && known[i].file.len == policy.file.len &&
            ngx_memcmp(known[i].json.data, policy.json.data, policy.json.len) == 0 &&
            ngx_memcmp(known[i].file.data, policy.file.data, policy.file.len) == 0) {
            conf->policy = (ngx_int_t)i;
            known[i].alone |= rule[AUTH_JWTV_KEY_FILE].files == NULL;
            return NGX_CONF_OK;
        }
    }
    /* Key files read, URLs well formed; nothing fetched, no thread started.
     * Key files named with variables are read by the workers, per request:
     * a policy whose only key source they are has none here, and passes. */
    rc = jwtv_policy_check(policy.policy, err, sizeof err);
    if (rc != JWTV_OK) {
        return ngx_http_auth_jwtv_failed(cf, ngx_http_auth_jwtv_directive_of(conf, err), rc, err);
    }
    known = ngx_array_push(&mcf->policies);
    if (known == NULL) {
        return NGX_CONF_ERROR;
    }
    *known = policy;
    known->alone = rule[AUTH_JWTV_KEY_FILE].files == NULL;
    conf->policy = (ngx_int_t)(mcf->policies.nelts - 1);
    return NGX_CONF_OK;
}

static char *ngx_http_auth_jwtv_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child) {
    ngx_http_auth_jwtv_loc_conf_t *prev = parent, *conf = child;

    ngx_conf_merge_value(conf->enabled, prev->enabled, 0);
    ngx_conf_merge_str_value(conf->realm, prev->realm, "");
    ngx_conf_merge_ptr_value(conf->token, prev->token, NULL);
    ngx_conf_merge_ptr_value(conf->require, prev->require, NULL); /* whole, as the rules */
    ngx_conf_merge_str_value(conf->policy_file, prev->policy_file, "");
    ngx_conf_merge_value(conf->status, prev->status, 0);
    for (ngx_uint_t i = 0; i < AUTH_JWTV_NRULES; i++) {
        if (conf->rules[i].words == NULL) {
            conf->rules[i] = prev->rules[i]; /* whole: a list given here replaces the one above */
        }
    }

    if (conf->enabled != 1 && !conf->status) {
        return NGX_CONF_OK;
    }
    for (ngx_uint_t i = 0; i < AUTH_JWTV_NRULES && conf->policy_file.len > 0; i++) {
        if (conf->rules[i].words != NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"auth_jwt_policy\" directive: cannot be combined with \"%V\": "
                               "put the rule in the policy file", &conf->rules[i].cmd->name);
            return NGX_CONF_ERROR;
        }
    }
    if (conf->policy_file.len == 0 && conf->rules[AUTH_JWTV_KEY_FILE].words == NULL &&
        conf->rules[AUTH_JWTV_KEY_URL].words == NULL && conf->rules[AUTH_JWTV_KEY_DISCOVERY].words == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"auth_jwt\" directive: needs a key source: auth_jwt_key_file, auth_jwt_key_url, "
                           "auth_jwt_issuer_discovery or auth_jwt_policy");
        return NGX_CONF_ERROR;
    }
    return ngx_http_auth_jwtv_make_policy(cf, conf);
}

static char *ngx_http_auth_jwtv(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) {
    ngx_http_auth_jwtv_loc_conf_t *lcf = conf;
    ngx_str_t *value = cf->args->elts;
    ngx_http_compile_complex_value_t ccv;

    (void)cmd;
    if (lcf->enabled != NGX_CONF_UNSET) {
        return "is duplicate";
    }
    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts > 2) {
            return "takes no token= with off";
        }
        lcf->enabled = 0;
        return NGX_CONF_OK;
    }
    lcf->enabled = 1;
    lcf->realm = value[1];
    if (cf->args->nelts == 3) {
        if (value[2].len <= sizeof("token=") - 1 || ngx_strncmp(value[2].data, "token=", 6) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\" (expected token=$variable)", &value[2]);
            return NGX_CONF_ERROR;
        }
        value[2].data += 6;
        value[2].len -= 6;
        lcf->token = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
        if (lcf->token == NULL) {
            return NGX_CONF_ERROR;
        }
        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));
        ccv.cf = cf;
        ccv.value = &value[2];
        ccv.complex_value = lcf->token;
        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }
    return NGX_CONF_OK;
}

/*
 * auth_jwt_key_file with variables, as in NGINX Plus: compiled, kept with the
 * rule (so inherited with it, and given in a location, replacing the key
 * files above), and evaluated per request; the fixed key sources stay in the
 * location's policy. A ".." segment in the written path fails here: the
 * evaluated one is refused anyway.
 */
static char *ngx_http_auth_jwtv_key_file_value(ngx_conf_t *cf, ngx_command_t *cmd, ngx_http_auth_jwtv_rule_t *rule,
                                               ngx_str_t *word) {
    ngx_http_compile_complex_value_t ccv;
    ngx_http_complex_value_t *cv;

    if (ngx_http_auth_jwtv_has_dotdot(word->data, word->len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" directive: \"%V\": a path with variables cannot hold a "
                           "\"..\" segment", &cmd->name, word);
        return NGX_CONF_ERROR;
    }
    if (rule->files == NULL &&
        (rule->files = ngx_array_create(cf->pool, 2, sizeof(ngx_http_complex_value_t))) == NULL) {
        return NGX_CONF_ERROR;
    }
    if ((cv = ngx_array_push(rule->files)) == NULL) {
        return NGX_CONF_ERROR;
    }
    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = word;
    ccv.complex_value = cv;
    return ngx_http_compile_complex_value(&ccv) == NGX_OK ? NGX_CONF_OK : NGX_CONF_ERROR;
}

/*
 * A rule directive. Its words are set at once in this level's own policy, so
 * that a bad value fails here, at the directive's line, with libjwtv's
 * message naming the field; they are kept for the merge, which sets them
 * again, with the rules inherited from above, in the location's policy.
 */
static char *ngx_http_auth_jwtv_rule(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) {
    ngx_http_auth_jwtv_loc_conf_t *lcf = conf;
    ngx_http_auth_jwtv_rule_t *rule = &lcf->rules[cmd->offset];
    ngx_http_auth_jwtv_field_t *field = &ngx_http_auth_jwtv_fields[cmd->offset];
    ngx_str_t *value = cf->args->elts, *word;
    char err[AUTH_JWTV_ERR_LEN] = "";
    ngx_uint_t first;
    ngx_int_t secs;
    jwtv_status rc;

    if (rule->words != NULL && field->kind != AUTH_JWTV_LIST && field->kind != AUTH_JWTV_CLAIM &&
        !ngx_http_auth_jwtv_is_key_source(cmd->offset)) {
        return "is duplicate";
    }
    if (lcf->own == NULL &&
        (jwtv_policy_new(&lcf->own) != JWTV_OK || ngx_http_auth_jwtv_keep(cf, lcf->own) == NULL)) {
        return NGX_CONF_ERROR;
    }
    if (rule->words == NULL && (rule->words = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t))) == NULL) {
        return NGX_CONF_ERROR;
    }
    rule->cmd = cmd;
    first = rule->words->nelts;
    for (ngx_uint_t i = 1; i < cf->args->nelts; i++) {
        if (ngx_strlen(value[i].data) != value[i].len) {
            return "takes no NUL byte";
        }
        if (cmd->offset == AUTH_JWTV_KEY_FILE && ngx_http_script_variables_count(&value[i]) > 0) {
            if (ngx_http_auth_jwtv_key_file_value(cf, cmd, rule, &value[i]) != NGX_CONF_OK) {
                return NGX_CONF_ERROR;
            }
            continue; /* not in the policy: evaluated per request */
        }
        if ((word = ngx_array_push(rule->words)) == NULL) {
            return NGX_CONF_ERROR;
        }
        *word = value[i];
        switch (field->kind) {
        case AUTH_JWTV_SOURCE:
            if (ngx_strnstr(word->data, "://", word->len) != NULL) {
                break; /* a URL: libjwtv checks its scheme and form */
            }
            /* fall through */
        case AUTH_JWTV_PATH:
            if (ngx_conf_full_name(cf->cycle, word, 1) != NGX_OK) {
                return NGX_CONF_ERROR;
            }
            break;
        case AUTH_JWTV_KEY_SOURCE:
            if (cmd->offset == AUTH_JWTV_KEY_FILE && ngx_conf_full_name(cf->cycle, word, 1) != NGX_OK) {
                return NGX_CONF_ERROR;
            }
            break;
        case AUTH_JWTV_SECONDS:
            if ((secs = ngx_parse_time(word, 1)) == NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" directive: %s: not a time: \"%V\"", &cmd->name,
                                   field->path, word);
                return NGX_CONF_ERROR;
            }
            if ((word->data = ngx_pnalloc(cf->pool, NGX_INT_T_LEN + 1)) == NULL) {
                return NGX_CONF_ERROR;
            }
            word->len = ngx_sprintf(word->data, "%i%Z", secs) - word->data - 1;
            break;
        default:
            break;
        }
    }
    if (field->kind == AUTH_JWTV_CLAIM && cf->args->nelts == 2) {
        if ((word = ngx_array_push(rule->words)) == NULL) {
            return NGX_CONF_ERROR;
        }
        ngx_str_null(word); /* presence only */
    }
    rc = ngx_http_auth_jwtv_apply(lcf->own, field, (ngx_str_t *)rule->words->elts + first,
                                  rule->words->nelts - first, err);
    return rc == JWTV_OK ? NGX_CONF_OK : ngx_http_auth_jwtv_failed(cf, &cmd->name, rc, err);
}

/*
 * auth_jwt_key_request url: auth_jwt_key_url under NGINX Plus's name. Plus
 * takes a URI there, fetched by a subrequest on the request path; jwtv
 * fetches keys itself, in the background, so a URI fails `nginx -t` asking
 * for the URL of the key server (what that location proxies to).
 */
static char *ngx_http_auth_jwtv_key_request(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) {
    ngx_str_t *value = cf->args->elts;

    if (ngx_strnstr(value[1].data, "://", value[1].len) == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive: \"%V\" is a URI: jwtv fetches keys itself, in the background, not "
                           "through a subrequest; give the key server's URL (what that location proxies to)",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }
    return ngx_http_auth_jwtv_rule(cf, cmd, conf);
}

/* auth_jwt_policy file: read when a location using it is merged, after the
 * check that no rule directive goes with it. */
static char *ngx_http_auth_jwtv_policy_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) {
    ngx_http_auth_jwtv_loc_conf_t *lcf = conf;
    ngx_str_t *value = cf->args->elts;

    (void)cmd;
    if (lcf->policy_file.data != NULL) {
        return "is duplicate";
    }
    lcf->policy_file = value[1];
    return ngx_conf_full_name(cf->cycle, &lcf->policy_file, 1) == NGX_OK ? NGX_CONF_OK : NGX_CONF_ERROR;
}

/*
 * auth_jwt_type signed | encrypted | nested: the token's kind, as in NGINX
 * Plus. jwtv verifies signed tokens (JWS) only, so the others fail `nginx -t`
 * rather than reject every request; any other word is most likely the header
 * `typ` rule, which is auth_jwt_typ here.
 */
static char *ngx_http_auth_jwtv_type(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) {
    ngx_str_t *value = cf->args->elts;

    (void)conf;
    if (ngx_strcmp(value[1].data, "signed") == 0) {
        return NGX_CONF_OK;
    }
    if (ngx_strcmp(value[1].data, "encrypted") == 0 || ngx_strcmp(value[1].data, "nested") == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" directive: %V tokens (JWE) are not supported: jwtv verifies signed tokens (JWS) "
                           "only",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%V\" directive: invalid value \"%V\": it takes signed, encrypted or nested (the token's "
                       "kind, as in NGINX Plus); to require a header typ, use \"auth_jwt_typ %V\"",
                       &cmd->name, &value[1], &value[1]);
    return NGX_CONF_ERROR;
}

/*
 * auth_jwt_require $value ... [error=401|403], as in NGINX Plus: values with
 * variables, checked per request after the token verified. A word that is
 * not a variable is most likely a claim name, which auth_jwt_require_claim
 * takes here; it fails `nginx -t` rather than reject every request.
 */
static char *ngx_http_auth_jwtv_require(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) {
    ngx_http_auth_jwtv_loc_conf_t *lcf = conf;
    ngx_str_t *value = cf->args->elts;
    ngx_uint_t n = cf->args->nelts;
    ngx_http_compile_complex_value_t ccv;
    ngx_http_auth_jwtv_require_t *require;
    ngx_int_t status = NGX_HTTP_UNAUTHORIZED;

    if (value[n - 1].len > sizeof("error=") - 1 && ngx_strncmp(value[n - 1].data, "error=", 6) == 0) {
        if (ngx_strcmp(value[n - 1].data, "error=401") == 0) {
            status = NGX_HTTP_UNAUTHORIZED;
        } else if (ngx_strcmp(value[n - 1].data, "error=403") == 0) {
            status = NGX_HTTP_FORBIDDEN;
        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" directive: invalid parameter \"%V\" (error=401 or 403)",
                               &cmd->name, &value[n - 1]);
            return NGX_CONF_ERROR;
        }
        n--;
    }
    if (n < 2) {
        return "takes at least one value";
    }
    if (lcf->require == NGX_CONF_UNSET_PTR &&
        (lcf->require = ngx_array_create(cf->pool, n - 1, sizeof(ngx_http_auth_jwtv_require_t))) == NULL) {
        return NGX_CONF_ERROR;
    }
    for (ngx_uint_t i = 1; i < n; i++) {
        if (value[i].data[0] != '$') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" directive: \"%V\" is not a variable: it takes values that start with a "
                               "variable, as in NGINX Plus; to require a claim, use \"auth_jwt_require_claim %V\"",
                               &cmd->name, &value[i], &value[i]);
            return NGX_CONF_ERROR;
        }
        require = ngx_array_push(lcf->require);
        if (require == NULL) {
            return NGX_CONF_ERROR;
        }
        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));
        ccv.cf = cf;
        ccv.value = &value[i];
        ccv.complex_value = &require->value;
        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
        require->status = status;
    }
    return NGX_CONF_OK;
}

/*
 * auth_jwt_claim_set $variable name ... and auth_jwt_header_set: a variable
 * holding the member at that path, from the top of the claims (or header):
 * `auth_jwt_claim_set $roles realm_access roles;`.
 */
static char *ngx_http_auth_jwtv_member_set(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) {
    ngx_str_t *value = cf->args->elts;
    ngx_http_auth_jwtv_member_t *m;
    ngx_http_variable_t *var;

    (void)conf;
    if (value[1].len < 2 || value[1].data[0] != '$') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" directive: invalid variable name \"%V\"", &cmd->name,
                           &value[1]);
        return NGX_CONF_ERROR;
    }
    m = ngx_pcalloc(cf->pool, sizeof(ngx_http_auth_jwtv_member_t));
    if (m == NULL) {
        return NGX_CONF_ERROR;
    }
    m->name.data = value[1].data + 1;
    m->name.len = value[1].len - 1;
    m->header = cmd->offset;
    m->depth = cf->args->nelts - 2;
    m->path = ngx_palloc(cf->pool, m->depth * sizeof(const char *));
    if (m->path == NULL) {
        return NGX_CONF_ERROR;
    }
    for (size_t i = 0; i < m->depth; i++) {
        if (ngx_strlen(value[i + 2].data) != value[i + 2].len) {
            return "takes no NUL byte";
        }
        m->path[i] = (const char *)value[i + 2].data; /* words are NUL-terminated */
    }
    var = ngx_http_add_variable(cf, &m->name, NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_CONF_ERROR;
    }
    var->get_handler = ngx_http_auth_jwtv_set_variable;
    var->data = (uintptr_t)m;
    return NGX_CONF_OK;
}

static char *ngx_http_auth_jwtv_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) {
    ngx_http_auth_jwtv_loc_conf_t *lcf = conf;
    ngx_http_core_loc_conf_t *clcf;

    (void)cmd;
    if (lcf->status != NGX_CONF_UNSET) {
        return "is duplicate";
    }
    lcf->status = 1;
    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_auth_jwtv_status_handler;
    return NGX_CONF_OK;
}

/*
 * The status zone, for a configuration with policies. Its size is
 * auth_jwt_status_zone's or, by default, room for three slots per worker in
 * each policy's record (the workers, those a reload replaces while they
 * finish, and replacements of killed ones), rounded up to a power of two:
 * a reload that keeps the size keeps the zone, and adding a policy or two
 * seldom changes it.
 */
static ngx_int_t ngx_http_auth_jwtv_add_zone(ngx_conf_t *cf) {
    static ngx_str_t name = ngx_string("auth_jwtv_status");
    ngx_http_auth_jwtv_main_conf_t *mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_auth_jwtv_module);
    ngx_core_conf_t *ccf = (ngx_core_conf_t *)ngx_get_conf(cf->cycle->conf_ctx, ngx_core_module);
    size_t size = mcf->zone_size, slot, need;
    ngx_uint_t workers;

    if (mcf->policies.nelts == 0) {
        return NGX_OK;
    }
    if (jwtv_snapshot_len(&mcf->words) != JWTV_OK ||
        (mcf->empty = ngx_palloc(cf->pool, mcf->words * sizeof(uint64_t))) == NULL ||
        jwtv_snapshot_empty(mcf->empty, mcf->words) != JWTV_OK) {
        return NGX_ERROR;
    }
    if (size == NGX_CONF_UNSET_SIZE) {
        /* worker_processes given after the http block: unset yet, count the CPUs (as "auto"). */
        workers = ccf->worker_processes > 0 ? (ngx_uint_t)ccf->worker_processes : (ngx_uint_t)ngx_ncpu;
        slot = offsetof(ngx_http_auth_jwtv_slot_t, words) + mcf->words * sizeof(uint64_t);
        need = 16 * ngx_pagesize + (mcf->policies.nelts + 1) * (3 * workers + 1) * 2 * slot;
        for (size = 128 * 1024; size < need; size *= 2) {
            /* the next power of two */
        }
    } else if (size < 16 * ngx_pagesize) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"auth_jwt_status_zone\" directive: %uz bytes is too small (%uz at least)",
                           size, 16 * ngx_pagesize);
        return NGX_ERROR;
    }
    mcf->zone = ngx_shared_memory_add(cf, &name, size, &ngx_http_auth_jwtv_module);
    if (mcf->zone == NULL) {
        return NGX_ERROR;
    }
    mcf->zone->init = ngx_http_auth_jwtv_init_zone;
    mcf->zone->data = mcf;
    return NGX_OK;
}

static ngx_int_t ngx_http_auth_jwtv_init(ngx_conf_t *cf) {
    ngx_http_handler_pt *h;
    ngx_http_core_main_conf_t *cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }
    *h = ngx_http_auth_jwtv_handler;
    return ngx_http_auth_jwtv_add_zone(cf);
}

/* ---- worker lifetime ---- */

/* Each worker makes its verifiers from the policies the master built (a
 * policy holds no thread), after the fork: remote key sets run a refresh
 * thread, and threads do not survive fork(). */
static ngx_int_t ngx_http_auth_jwtv_init_process(ngx_cycle_t *cycle) {
    ngx_http_auth_jwtv_main_conf_t *mcf;
    ngx_http_auth_jwtv_policy_t *policy;
    char err[AUTH_JWTV_ERR_LEN];

    if (ngx_process != NGX_PROCESS_WORKER && ngx_process != NGX_PROCESS_SINGLE) {
        return NGX_OK;
    }
    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_auth_jwtv_module);
    if (mcf == NULL || mcf->policies.nelts == 0) {
        return NGX_OK;
    }
    ngx_http_auth_jwtv_verifiers = ngx_pcalloc(cycle->pool, mcf->policies.nelts * sizeof(jwtv_verifier *));
    if (ngx_http_auth_jwtv_verifiers == NULL) {
        return NGX_ERROR;
    }
    ngx_http_auth_jwtv_nverifiers = mcf->policies.nelts;
    ngx_http_auth_jwtv_prefix = cycle->conf_prefix;
    policy = mcf->policies.elts;
    for (ngx_uint_t i = 0; i < mcf->policies.nelts; i++) {
        if (!policy[i].alone) {
            continue; /* each location using it adds key files named with variables */
        }
        err[0] = '\0';
        /* Nonblocking: a worker never waits for a key server or a Redis list,
         * whatever a policy file says; until the keys arrive, requests get 503. */
        if (jwtv_verifier_from_policy(policy[i].policy, JWTV_NONBLOCKING, &ngx_http_auth_jwtv_verifiers[i], err,
                                      sizeof err) != JWTV_OK) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, 0, "auth_jwt: cannot make a verifier: %s", err);
        } else {
            (void)jwtv_verifier_set_audit_callback(ngx_http_auth_jwtv_verifiers[i], ngx_http_auth_jwtv_audit, NULL);
        }
    }
    ngx_http_auth_jwtv_changes_ev.handler = ngx_http_auth_jwtv_changes_handler;
    ngx_http_auth_jwtv_changes_ev.log = cycle->log;
    ngx_http_auth_jwtv_changes_ev.cancelable = 1;
    ngx_add_timer(&ngx_http_auth_jwtv_changes_ev, AUTH_JWTV_PUBLISH_MSEC);
    return ngx_http_auth_jwtv_join(cycle, mcf);
}

static void ngx_http_auth_jwtv_exit_process(ngx_cycle_t *cycle) {
    (void)cycle;
    ngx_http_auth_jwtv_leave(); /* before the verifiers go */
    for (ngx_uint_t i = 0; i < ngx_http_auth_jwtv_nverifiers; i++) {
        jwtv_verifier_free(ngx_http_auth_jwtv_verifiers[i]);
        ngx_http_auth_jwtv_verifiers[i] = NULL;
    }
    ngx_http_auth_jwtv_nverifiers = 0;
    for (ngx_uint_t i = 0; i < AUTH_JWTV_FILE_CACHE; i++) {
        ngx_http_auth_jwtv_file_drop(&ngx_http_auth_jwtv_file_verifiers[i]);
    }
}

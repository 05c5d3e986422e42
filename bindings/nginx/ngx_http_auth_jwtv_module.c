/*
 * ngx_http_auth_jwtv_module: JWT authentication for NGINX with jwtv.
 *
 * The directives of a location become one jwtv policy document (the JSON of
 * docs/POLICY.md), checked at configuration time (so `nginx -t` fails on a bad
 * key file or value) and deduplicated: each distinct policy gets one verifier
 * per worker, made when the worker starts. Requests are verified in the
 * ACCESS phase; the logic lives in libjwtv, this file only translates.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "jwtv.h"

#define AUTH_JWTV_ERR_LEN 512
/* Entries a list directive takes: MAX_RULE_LIST_LEN of crates/jwtv-jwks. */
#define AUTH_JWTV_MAX_LIST JWTV_MAX_LIST_LEN
/* Seconds in the Retry-After of a 503 (a key set not loaded yet). */
#define AUTH_JWTV_RETRY_AFTER "5"

typedef struct {
    ngx_str_t json;     /* the policy document, NUL-terminated */
    ngx_str_t base_dir; /* for relative paths inside it, NUL-terminated */
} ngx_http_auth_jwtv_policy_t;

typedef struct {
    ngx_array_t policies; /* of ngx_http_auth_jwtv_policy_t */
} ngx_http_auth_jwtv_main_conf_t;

typedef struct {
    ngx_flag_t enabled; /* auth_jwt: 1 on, 0 off */
    ngx_str_t realm;
    ngx_http_complex_value_t *token; /* token=$variable */
    ngx_str_t key_file;
    ngx_str_t key_url;
    ngx_str_t policy_file;
    ngx_str_t revocations; /* a file path (made absolute) or a redis:// URL */
    ngx_array_t *algorithms; /* of ngx_str_t */
    ngx_array_t *issuers;
    ngx_array_t *audiences;
    ngx_str_t type;
    time_t leeway;
    ngx_array_t *requires; /* of ngx_keyval_t; an empty value: presence only */
    ngx_int_t cache;
    ngx_flag_t status; /* auth_jwt_status in this location */
    ngx_int_t policy;  /* index in the main conf's policies, or -1 */
} ngx_http_auth_jwtv_loc_conf_t;

typedef struct {
    jwtv_token *token; /* the verified token, freed with the request pool */
    jwtv_status status;
    ngx_int_t rc;         /* the access handler's answer, kept for re-entry */
    ngx_array_t *refused; /* of ngx_str_t *: variables left empty, already logged */
} ngx_http_auth_jwtv_ctx_t;

static ngx_int_t ngx_http_auth_jwtv_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_auth_jwtv_status_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_auth_jwtv_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_auth_jwtv_init(ngx_conf_t *cf);
static void *ngx_http_auth_jwtv_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_auth_jwtv_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_auth_jwtv_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child);
static char *ngx_http_auth_jwtv(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_auth_jwtv_list(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_auth_jwtv_path(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_auth_jwtv_revocations(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_auth_jwtv_require(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_auth_jwtv_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_auth_jwtv_init_process(ngx_cycle_t *cycle);
static void ngx_http_auth_jwtv_exit_process(ngx_cycle_t *cycle);

#define AUTH_JWTV_CONTEXT (NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF)

static ngx_command_t ngx_http_auth_jwtv_commands[] = {
    {ngx_string("auth_jwt"), AUTH_JWTV_CONTEXT | NGX_CONF_TAKE12, ngx_http_auth_jwtv, NGX_HTTP_LOC_CONF_OFFSET, 0,
     NULL},
    {ngx_string("auth_jwt_key_file"), AUTH_JWTV_CONTEXT | NGX_CONF_TAKE1, ngx_http_auth_jwtv_path,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(ngx_http_auth_jwtv_loc_conf_t, key_file), NULL},
    {ngx_string("auth_jwt_key_url"), AUTH_JWTV_CONTEXT | NGX_CONF_TAKE1, ngx_conf_set_str_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(ngx_http_auth_jwtv_loc_conf_t, key_url), NULL},
    {ngx_string("auth_jwt_policy"), AUTH_JWTV_CONTEXT | NGX_CONF_TAKE1, ngx_http_auth_jwtv_path,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(ngx_http_auth_jwtv_loc_conf_t, policy_file), NULL},
    {ngx_string("auth_jwt_revocations"), AUTH_JWTV_CONTEXT | NGX_CONF_TAKE1, ngx_http_auth_jwtv_revocations,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(ngx_http_auth_jwtv_loc_conf_t, revocations), NULL},
    {ngx_string("auth_jwt_alg"), AUTH_JWTV_CONTEXT | NGX_CONF_1MORE, ngx_http_auth_jwtv_list,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(ngx_http_auth_jwtv_loc_conf_t, algorithms), NULL},
    {ngx_string("auth_jwt_issuer"), AUTH_JWTV_CONTEXT | NGX_CONF_1MORE, ngx_http_auth_jwtv_list,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(ngx_http_auth_jwtv_loc_conf_t, issuers), NULL},
    {ngx_string("auth_jwt_audience"), AUTH_JWTV_CONTEXT | NGX_CONF_1MORE, ngx_http_auth_jwtv_list,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(ngx_http_auth_jwtv_loc_conf_t, audiences), NULL},
    {ngx_string("auth_jwt_type"), AUTH_JWTV_CONTEXT | NGX_CONF_TAKE1, ngx_conf_set_str_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(ngx_http_auth_jwtv_loc_conf_t, type), NULL},
    {ngx_string("auth_jwt_leeway"), AUTH_JWTV_CONTEXT | NGX_CONF_TAKE1, ngx_conf_set_sec_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(ngx_http_auth_jwtv_loc_conf_t, leeway), NULL},
    {ngx_string("auth_jwt_require"), AUTH_JWTV_CONTEXT | NGX_CONF_TAKE12, ngx_http_auth_jwtv_require,
     NGX_HTTP_LOC_CONF_OFFSET, 0, NULL},
    {ngx_string("auth_jwt_cache"), AUTH_JWTV_CONTEXT | NGX_CONF_TAKE1, ngx_conf_set_num_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(ngx_http_auth_jwtv_loc_conf_t, cache), NULL},
    {ngx_string("auth_jwt_status"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, ngx_http_auth_jwtv_status,
     NGX_HTTP_LOC_CONF_OFFSET, 0, NULL},
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

static ngx_http_variable_t ngx_http_auth_jwtv_vars[] = {
    {ngx_string("jwt_claim_"), NULL, ngx_http_auth_jwtv_claim_variable, 0,
     NGX_HTTP_VAR_PREFIX | NGX_HTTP_VAR_NOCACHEABLE, 0},
    {ngx_string("jwt_header_"), NULL, ngx_http_auth_jwtv_header_variable, 0,
     NGX_HTTP_VAR_PREFIX | NGX_HTTP_VAR_NOCACHEABLE, 0},
    {ngx_string("jwt_error"), NULL, ngx_http_auth_jwtv_error_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0},
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

typedef jwtv_status (*ngx_http_auth_jwtv_lookup_pt)(const jwtv_token *, const char *, char *, size_t, size_t *);

/* A claim or header parameter as text: strings decoded, anything else as JSON. */
static ngx_int_t ngx_http_auth_jwtv_member(ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data,
                                           size_t prefix_len, ngx_http_auth_jwtv_lookup_pt as_string,
                                           ngx_http_auth_jwtv_lookup_pt as_json) {
    ngx_str_t *name = (ngx_str_t *)data;
    ngx_http_auth_jwtv_ctx_t *ctx;
    u_char *cname, *buf;
    size_t len = 0;
    jwtv_status rc;

    v->not_found = 1;
    ctx = ngx_http_get_module_ctx(r->main, ngx_http_auth_jwtv_module);
    if (ctx == NULL || ctx->token == NULL || name->len <= prefix_len) {
        return NGX_OK;
    }
    cname = ngx_pnalloc(r->pool, name->len - prefix_len + 1);
    if (cname == NULL) {
        return NGX_ERROR;
    }
    ngx_memcpy(cname, name->data + prefix_len, name->len - prefix_len);
    cname[name->len - prefix_len] = '\0';

    rc = as_string(ctx->token, (const char *)cname, NULL, 0, &len);
    if (rc == JWTV_WRONG_TYPE && as_json != NULL) {
        as_string = as_json;
        rc = as_string(ctx->token, (const char *)cname, NULL, 0, &len);
    }
    if (rc == JWTV_NOT_FOUND || rc == JWTV_WRONG_TYPE) {
        return NGX_OK;
    }
    if (rc != JWTV_BUFFER_TOO_SMALL) {
        return ngx_http_auth_jwtv_value(r, v, name, NULL, 0); /* present, but not as a C string */
    }
    buf = ngx_pnalloc(r->pool, len + 1);
    if (buf == NULL) {
        return NGX_ERROR;
    }
    if (as_string(ctx->token, (const char *)cname, (char *)buf, len + 1, NULL) != JWTV_OK) {
        return NGX_OK;
    }
    return ngx_http_auth_jwtv_value(r, v, name, buf, len);
}

static ngx_int_t ngx_http_auth_jwtv_claim_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
                                                   uintptr_t data) {
    return ngx_http_auth_jwtv_member(r, v, data, sizeof("jwt_claim_") - 1, jwtv_token_claim_string,
                                     jwtv_token_claim_json);
}

static ngx_int_t ngx_http_auth_jwtv_header_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
                                                    uintptr_t data) {
    return ngx_http_auth_jwtv_member(r, v, data, sizeof("jwt_header_") - 1, jwtv_token_header_string, NULL);
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

/* ---- request handling ---- */

static void ngx_http_auth_jwtv_cleanup(void *data) {
    ngx_http_auth_jwtv_ctx_t *ctx = data;
    jwtv_token_free(ctx->token);
    ctx->token = NULL;
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

/* Answers 401 with an RFC 6750 challenge; error fields only when a token was given. */
static ngx_int_t ngx_http_auth_jwtv_reject(ngx_http_request_t *r, ngx_http_auth_jwtv_loc_conf_t *conf,
                                           const char *code) {
    ngx_table_elt_t *h;
    size_t len;
    u_char *p;

    len = sizeof("Bearer realm=\"\"") - 1 + conf->realm.len;
    if (code != NULL) {
        len += sizeof(", error=\"invalid_token\", error_description=\"\"") - 1 + ngx_strlen(code);
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
    if (code != NULL) {
        p = ngx_sprintf(p, "Bearer realm=\"%V\", error=\"invalid_token\", error_description=\"%s\"", &conf->realm,
                        code);
    } else {
        p = ngx_sprintf(p, "Bearer realm=\"%V\"", &conf->realm);
    }
    h->value.len = p - h->value.data;
    r->headers_out.www_authenticate = h;
    return NGX_HTTP_UNAUTHORIZED;
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
        ctx->rc = ngx_http_auth_jwtv_reject(r, conf, NULL);
        return ctx->rc;
    }
    ngx_http_auth_jwtv_log(r, &log);
    if (conf->policy < 0 || (ngx_uint_t)conf->policy >= ngx_http_auth_jwtv_nverifiers ||
        (verifier = ngx_http_auth_jwtv_verifiers[conf->policy]) == NULL) {
        ngx_log_error(NGX_LOG_ERR, &log, 0, "auth_jwt: no verifier for this location (see startup errors), client: %V",
                      &r->connection->addr_text);
        ctx->rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return ctx->rc;
    }

    ctx->status = jwtv_verifier_verify(verifier, token.data, token.len, 0, &ctx->token, detail, sizeof detail);
    if (ctx->status == JWTV_OK) {
        ctx->rc = NGX_OK;
        return ctx->rc;
    }
    /* Never log the token; its length and the reason are enough. */
    ngx_log_error(NGX_LOG_INFO, &log, 0, "auth_jwt: token %s: %s%s%s (%uz bytes), client: %V",
                  ctx->status == JWTV_UNAVAILABLE ? "not checked" : "rejected", jwtv_error_name(ctx->status),
                  detail[0] ? " " : "", detail, token.len, &r->connection->addr_text);
    if (ctx->status == JWTV_UNAVAILABLE) {
        ctx->rc = ngx_http_auth_jwtv_unavailable(r);
    } else {
        ctx->rc = ngx_http_auth_jwtv_reject(r, conf, jwtv_error_name(ctx->status));
    }
    return ctx->rc;
}

static ngx_int_t ngx_http_auth_jwtv_status_handler(ngx_http_request_t *r) {
    ngx_http_auth_jwtv_loc_conf_t *conf;
    jwtv_verifier *verifier;
    ngx_buf_t *b;
    ngx_chain_t out;
    size_t len = 0;
    ngx_int_t rc;
    static const char refused[] =
        "# HELP jwtv_nginx_refused_values_total Token values left out of $jwt_ variables: they hold control bytes.\n"
        "# TYPE jwtv_nginx_refused_values_total counter\n"
        "jwtv_nginx_refused_values_total %ui\n";

    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }
    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }
    conf = ngx_http_get_module_loc_conf(r, ngx_http_auth_jwtv_module);
    if (conf->policy < 0 || (ngx_uint_t)conf->policy >= ngx_http_auth_jwtv_nverifiers ||
        (verifier = ngx_http_auth_jwtv_verifiers[conf->policy]) == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (jwtv_verifier_metrics_prometheus(verifier, NULL, 0, &len) != JWTV_BUFFER_TOO_SMALL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    b = ngx_create_temp_buf(r->pool, len + 1 + sizeof(refused) + NGX_INT_T_LEN);
    if (b == NULL || jwtv_verifier_metrics_prometheus(verifier, (char *)b->pos, len + 1, NULL) != JWTV_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    /* The module's own counter after the verifier's. */
    b->last = ngx_sprintf(b->pos + len, refused, ngx_http_auth_jwtv_refused);
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
    return mcf;
}

static void *ngx_http_auth_jwtv_create_loc_conf(ngx_conf_t *cf) {
    ngx_http_auth_jwtv_loc_conf_t *conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_auth_jwtv_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }
    /* ngx_pcalloc left the strings empty (unset). */
    conf->enabled = NGX_CONF_UNSET;
    conf->token = NGX_CONF_UNSET_PTR;
    conf->algorithms = NGX_CONF_UNSET_PTR;
    conf->issuers = NGX_CONF_UNSET_PTR;
    conf->audiences = NGX_CONF_UNSET_PTR;
    conf->leeway = NGX_CONF_UNSET;
    conf->requires = NGX_CONF_UNSET_PTR;
    conf->cache = NGX_CONF_UNSET;
    conf->status = NGX_CONF_UNSET;
    conf->policy = -1;
    return conf;
}

/* A growing JSON text in the configuration pool. */
typedef struct {
    ngx_pool_t *pool;
    u_char *data;
    size_t len, cap;
    ngx_flag_t failed;
} ngx_http_auth_jwtv_json_t;

static void json_raw(ngx_http_auth_jwtv_json_t *j, const u_char *s, size_t n) {
    if (j->failed) return;
    if (j->len + n + 1 > j->cap) {
        size_t cap = (j->cap ? j->cap * 2 : 512);
        while (cap < j->len + n + 1) cap *= 2;
        u_char *p = ngx_pnalloc(j->pool, cap);
        if (p == NULL) {
            j->failed = 1;
            return;
        }
        if (j->len) ngx_memcpy(p, j->data, j->len);
        j->data = p;
        j->cap = cap;
    }
    ngx_memcpy(j->data + j->len, s, n);
    j->len += n;
    j->data[j->len] = '\0';
}

static void json_lit(ngx_http_auth_jwtv_json_t *j, const char *s) { json_raw(j, (const u_char *)s, ngx_strlen(s)); }

/* A JSON string: quotes, backslashes and control characters escaped. */
static void json_str(ngx_http_auth_jwtv_json_t *j, ngx_str_t *s) {
    u_char esc[8];
    json_lit(j, "\"");
    for (size_t i = 0; i < s->len; i++) {
        u_char c = s->data[i];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = c;
            json_raw(j, esc, 2);
        } else if (c < 0x20) {
            json_raw(j, esc, ngx_sprintf(esc, "\\u%04xi", (ngx_uint_t)c) - esc);
        } else {
            json_raw(j, &c, 1);
        }
    }
    json_lit(j, "\"");
}

static void json_str_array(ngx_http_auth_jwtv_json_t *j, const char *name, ngx_array_t *list) {
    ngx_str_t *items;
    if (list == NULL || list->nelts == 0) return;
    json_lit(j, ",\"");
    json_lit(j, name);
    json_lit(j, "\":[");
    items = list->elts;
    for (ngx_uint_t i = 0; i < list->nelts; i++) {
        if (i) json_lit(j, ",");
        json_str(j, &items[i]);
    }
    json_lit(j, "]");
}

/* The policy document for a merged location configuration. */
static char *ngx_http_auth_jwtv_policy_json(ngx_conf_t *cf, ngx_http_auth_jwtv_loc_conf_t *conf,
                                            ngx_http_auth_jwtv_policy_t *policy) {
    ngx_http_auth_jwtv_json_t j = {cf->pool, NULL, 0, 0, 0};
    u_char num[NGX_INT64_LEN + 2];
    ngx_uint_t sources = (conf->key_file.len > 0) + (conf->key_url.len > 0) + (conf->policy_file.len > 0);

    if (sources == 0) {
        return "needs a key source: auth_jwt_key_file, auth_jwt_key_url or auth_jwt_policy";
    }
    if (sources > 1) {
        return "takes one key source: auth_jwt_key_file, auth_jwt_key_url or auth_jwt_policy";
    }

    if (conf->policy_file.len > 0) {
        /* The whole policy comes from the file; the directives cannot add to it. */
        ngx_file_info_t fi;
        ngx_fd_t fd;
        ssize_t n;
        u_char *slash;

        if (conf->algorithms || conf->issuers || conf->audiences || conf->type.len || conf->requires ||
            conf->leeway != NGX_CONF_UNSET || conf->cache != NGX_CONF_UNSET || conf->revocations.len) {
            return "auth_jwt_policy cannot be combined with auth_jwt_alg, _issuer, _audience, _type, _leeway, "
                   "_require, _cache or _revocations: put them in the policy file";
        }
        fd = ngx_open_file(conf->policy_file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
        if (fd == NGX_INVALID_FILE || ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
            if (fd != NGX_INVALID_FILE) ngx_close_file(fd);
            return "cannot read the auth_jwt_policy file";
        }
        policy->json.len = ngx_file_size(&fi);
        policy->json.data = ngx_pnalloc(cf->pool, policy->json.len + 1);
        n = policy->json.data ? ngx_read_fd(fd, policy->json.data, policy->json.len) : -1;
        ngx_close_file(fd);
        if (n < 0 || (size_t)n != policy->json.len) {
            return "cannot read the auth_jwt_policy file";
        }
        policy->json.data[policy->json.len] = '\0';
        slash = NULL;
        for (u_char *p = conf->policy_file.data; p < conf->policy_file.data + conf->policy_file.len; p++) {
            if (*p == '/') slash = p;
        }
        policy->base_dir.len = slash ? (size_t)(slash - conf->policy_file.data) : 1;
        policy->base_dir.data = ngx_pnalloc(cf->pool, policy->base_dir.len + 1);
        if (policy->base_dir.data == NULL) return "out of memory";
        ngx_memcpy(policy->base_dir.data, slash ? conf->policy_file.data : (u_char *)".", policy->base_dir.len);
        policy->base_dir.data[policy->base_dir.len] = '\0';
        return NGX_CONF_OK;
    }

    json_lit(&j, "{\"keys\":{");
    if (conf->key_file.len > 0) {
        json_lit(&j, "\"jwks_file\":");
        json_str(&j, &conf->key_file);
    } else {
        json_lit(&j, "\"jwks_url\":");
        json_str(&j, &conf->key_url);
    }
    json_lit(&j, "},\"algorithms\":");
    if (conf->algorithms != NULL) {
        json_lit(&j, "[");
        ngx_str_t *alg = conf->algorithms->elts;
        for (ngx_uint_t i = 0; i < conf->algorithms->nelts; i++) {
            if (i) json_lit(&j, ",");
            json_str(&j, &alg[i]);
        }
        json_lit(&j, "]");
    } else {
        /* Every algorithm; each key still verifies only its own. */
        json_lit(&j, "[\"HS256\",\"HS384\",\"HS512\",\"RS256\",\"RS384\",\"RS512\",\"PS256\",\"PS384\",\"PS512\","
                     "\"ES256\",\"ES384\",\"EdDSA\"]");
    }
    json_str_array(&j, "issuers", conf->issuers);
    json_str_array(&j, "audiences", conf->audiences);
    if (conf->type.len > 0) {
        json_lit(&j, ",\"typ\":");
        json_str(&j, &conf->type);
    }
    if (conf->leeway != NGX_CONF_UNSET) {
        json_lit(&j, ",\"leeway_secs\":");
        json_raw(&j, num, ngx_sprintf(num, "%T", conf->leeway) - num);
    }
    if (conf->cache != NGX_CONF_UNSET) {
        json_lit(&j, ",\"token_cache_size\":");
        json_raw(&j, num, ngx_sprintf(num, "%i", conf->cache) - num);
    }
    if (conf->requires != NULL) {
        ngx_keyval_t *kv = conf->requires->elts;
        ngx_uint_t n_values = 0, n_claims = 0;
        json_lit(&j, ",\"required_claims\":[");
        for (ngx_uint_t i = 0; i < conf->requires->nelts; i++) {
            if (kv[i].value.len == 0) {
                if (n_claims++) json_lit(&j, ",");
                json_str(&j, &kv[i].key);
            }
        }
        json_lit(&j, "],\"required_claim_values\":{");
        for (ngx_uint_t i = 0; i < conf->requires->nelts; i++) {
            if (kv[i].value.len > 0) {
                if (n_values++) json_lit(&j, ",");
                json_str(&j, &kv[i].key);
                json_lit(&j, ":");
                json_str(&j, &kv[i].value);
            }
        }
        json_lit(&j, "}");
    }
    if (conf->revocations.len > 0) {
        json_lit(&j, ",\"revocations\":{\"source\":");
        json_str(&j, &conf->revocations);
        json_lit(&j, "}");
    }
    json_lit(&j, "}");
    if (j.failed) {
        return "out of memory";
    }
    policy->json.data = j.data;
    policy->json.len = j.len;
    ngx_str_set(&policy->base_dir, ".");
    return NGX_CONF_OK;
}

static char *ngx_http_auth_jwtv_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child) {
    ngx_http_auth_jwtv_loc_conf_t *prev = parent, *conf = child;
    ngx_http_auth_jwtv_main_conf_t *mcf;
    ngx_http_auth_jwtv_policy_t policy, *known;
    char err[AUTH_JWTV_ERR_LEN];
    char *msg;

    ngx_conf_merge_value(conf->enabled, prev->enabled, 0);
    ngx_conf_merge_str_value(conf->realm, prev->realm, "");
    ngx_conf_merge_ptr_value(conf->token, prev->token, NULL);
    ngx_conf_merge_str_value(conf->key_file, prev->key_file, "");
    ngx_conf_merge_str_value(conf->key_url, prev->key_url, "");
    ngx_conf_merge_str_value(conf->policy_file, prev->policy_file, "");
    ngx_conf_merge_str_value(conf->revocations, prev->revocations, "");
    ngx_conf_merge_ptr_value(conf->algorithms, prev->algorithms, NULL);
    ngx_conf_merge_ptr_value(conf->issuers, prev->issuers, NULL);
    ngx_conf_merge_ptr_value(conf->audiences, prev->audiences, NULL);
    ngx_conf_merge_str_value(conf->type, prev->type, "");
    if (conf->leeway == NGX_CONF_UNSET) conf->leeway = prev->leeway; /* may stay unset: the default applies */
    ngx_conf_merge_ptr_value(conf->requires, prev->requires, NULL);
    if (conf->cache == NGX_CONF_UNSET) conf->cache = prev->cache;
    ngx_conf_merge_value(conf->status, prev->status, 0);

    if (conf->enabled != 1 && !conf->status) {
        return NGX_CONF_OK;
    }
    msg = ngx_http_auth_jwtv_policy_json(cf, conf, &policy);
    if (msg != NGX_CONF_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "auth_jwt %s", msg);
        return NGX_CONF_ERROR;
    }

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_auth_jwtv_module);
    known = mcf->policies.elts;
    for (ngx_uint_t i = 0; i < mcf->policies.nelts; i++) {
        if (known[i].json.len == policy.json.len && ngx_memcmp(known[i].json.data, policy.json.data, policy.json.len) == 0 &&
            known[i].base_dir.len == policy.base_dir.len &&
            ngx_memcmp(known[i].base_dir.data, policy.base_dir.data, policy.base_dir.len) == 0) {
            conf->policy = (ngx_int_t)i;
            return NGX_CONF_OK;
        }
    }
    /* A new policy: checked now, so that `nginx -t` reports it. */
    err[0] = '\0';
    if (jwtv_policy_check(policy.json.data, policy.json.len, (const char *)policy.base_dir.data, err, sizeof err) !=
        JWTV_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "auth_jwt: invalid configuration: %s", err);
        return NGX_CONF_ERROR;
    }
    known = ngx_array_push(&mcf->policies);
    if (known == NULL) {
        return NGX_CONF_ERROR;
    }
    *known = policy;
    conf->policy = (ngx_int_t)(mcf->policies.nelts - 1);
    return NGX_CONF_OK;
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

/* Directives that take one or more words, each appended to a list. */
static char *ngx_http_auth_jwtv_list(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) {
    ngx_array_t **list = (ngx_array_t **)((char *)conf + cmd->offset);
    ngx_str_t *value = cf->args->elts, *item;

    if (*list == NGX_CONF_UNSET_PTR) {
        *list = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
        if (*list == NULL) {
            return NGX_CONF_ERROR;
        }
    }
    if ((*list)->nelts + cf->args->nelts - 1 > AUTH_JWTV_MAX_LIST) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" takes at most %d values in a context", &cmd->name,
                           AUTH_JWTV_MAX_LIST);
        return NGX_CONF_ERROR;
    }
    for (ngx_uint_t i = 1; i < cf->args->nelts; i++) {
        item = ngx_array_push(*list);
        if (item == NULL) {
            return NGX_CONF_ERROR;
        }
        *item = value[i];
    }
    return NGX_CONF_OK;
}

/* A file path, made absolute against the configuration prefix. */
static char *ngx_http_auth_jwtv_path(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) {
    ngx_str_t *field = (ngx_str_t *)((char *)conf + cmd->offset);
    ngx_str_t *value = cf->args->elts;

    if (field->data != NULL) {
        return "is duplicate";
    }
    *field = value[1];
    if (ngx_conf_full_name(cf->cycle, field, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }
    return NGX_CONF_OK;
}

/* auth_jwt_revocations file | redis://…: a URL is kept as written, a file
 * path made absolute against the configuration prefix. */
static char *ngx_http_auth_jwtv_revocations(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) {
    ngx_str_t *field = (ngx_str_t *)((char *)conf + cmd->offset);
    ngx_str_t *value = cf->args->elts;

    if (field->data != NULL) {
        return "is duplicate";
    }
    if (value[1].len == 0) {
        return "needs a file path or a redis:// URL";
    }
    if (ngx_strnstr(value[1].data, "://", value[1].len) != NULL) {
        *field = value[1]; /* a URL: libjwtv checks its scheme and form */
        return NGX_CONF_OK;
    }
    return ngx_http_auth_jwtv_path(cf, cmd, conf);
}

/* auth_jwt_require claim [value]; repeatable. */
static char *ngx_http_auth_jwtv_require(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) {
    ngx_http_auth_jwtv_loc_conf_t *lcf = conf;
    ngx_str_t *value = cf->args->elts;
    ngx_keyval_t *kv;

    if (lcf->requires == NGX_CONF_UNSET_PTR) {
        lcf->requires = ngx_array_create(cf->pool, 4, sizeof(ngx_keyval_t));
        if (lcf->requires == NULL) {
            return NGX_CONF_ERROR;
        }
    }
    if (lcf->requires->nelts == AUTH_JWTV_MAX_LIST) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" is allowed at most %d times in a context", &cmd->name,
                           AUTH_JWTV_MAX_LIST);
        return NGX_CONF_ERROR;
    }
    /* A second rule for a claim would replace the first in the policy's map. */
    kv = lcf->requires->elts;
    for (ngx_uint_t i = 0; i < lcf->requires->nelts; i++) {
        if (kv[i].key.len == value[1].len && ngx_strncmp(kv[i].key.data, value[1].data, value[1].len) == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" names claim \"%V\" twice in a context", &cmd->name,
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }
    kv = ngx_array_push(lcf->requires);
    if (kv == NULL) {
        return NGX_CONF_ERROR;
    }
    kv->key = value[1];
    if (cf->args->nelts == 3) {
        kv->value = value[2];
        if (kv->value.len == 0) {
            return "needs a non-empty value (omit it to require presence only)";
        }
    } else {
        ngx_str_null(&kv->value);
    }
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

static ngx_int_t ngx_http_auth_jwtv_init(ngx_conf_t *cf) {
    ngx_http_handler_pt *h;
    ngx_http_core_main_conf_t *cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }
    *h = ngx_http_auth_jwtv_handler;
    return NGX_OK;
}

/* ---- worker lifetime ---- */

/* Each worker makes its verifiers after the fork: remote key sets run a
 * refresh thread, and threads do not survive fork(). */
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
    policy = mcf->policies.elts;
    for (ngx_uint_t i = 0; i < mcf->policies.nelts; i++) {
        err[0] = '\0';
        /* Nonblocking: a worker never waits for a key server or a Redis list,
         * whatever a policy file says; until the keys arrive, requests get 503. */
        if (jwtv_verifier_from_policy_json_nonblocking(policy[i].json.data, policy[i].json.len,
                                                       (const char *)policy[i].base_dir.data,
                                                       &ngx_http_auth_jwtv_verifiers[i], err, sizeof err) != JWTV_OK) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, 0, "auth_jwt: cannot make a verifier: %s", err);
        }
    }
    return NGX_OK;
}

static void ngx_http_auth_jwtv_exit_process(ngx_cycle_t *cycle) {
    (void)cycle;
    for (ngx_uint_t i = 0; i < ngx_http_auth_jwtv_nverifiers; i++) {
        jwtv_verifier_free(ngx_http_auth_jwtv_verifiers[i]);
        ngx_http_auth_jwtv_verifiers[i] = NULL;
    }
    ngx_http_auth_jwtv_nverifiers = 0;
}

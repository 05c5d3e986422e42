/* Tests of libjwtv through its C header: every function, the bad-argument
 * paths, and verification from many threads on one shared verifier.
 *
 * Usage: test_jwtv EXAMPLES_DIR   (the repository's examples/ folder)
 * Run by run.sh under ASan/UBSan and under valgrind memcheck. */

#define _POSIX_C_SOURCE 200809L /* mkdtemp, rmdir, unlink */

#include "jwtv.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* A verifier over examples/jwks.json for the example issuer and audience. */
static jwtv_verifier *example_verifier(size_t cache) {
    jwtv_config *config = NULL;
    jwtv_verifier *verifier = NULL;
    char err[256];
    CHECK_STATUS(jwtv_config_new(&config), JWTV_OK);
    CHECK_STATUS(jwtv_config_set_jwks_file(config, example_path("jwks.json")), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_algorithm(config, "ES256"), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_algorithm(config, "EdDSA"), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_algorithm(config, "RS256"), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_issuer(config, "https://issuer.example"), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_audience(config, "api"), JWTV_OK);
    CHECK_STATUS(jwtv_config_set_typ(config, "JWT"), JWTV_OK);
    CHECK_STATUS(jwtv_config_set_leeway(config, 30), JWTV_OK);
    CHECK_STATUS(jwtv_config_require_claim(config, "sub"), JWTV_OK);
    CHECK_STATUS(jwtv_config_set_max_token_len(config, 8192), JWTV_OK);
    CHECK_STATUS(jwtv_config_set_token_cache(config, cache), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_new(config, &verifier, err, sizeof err), JWTV_OK);
    jwtv_config_free(config);
    CHECK(verifier != NULL);
    return verifier;
}

static void test_error_names(void) {
    CHECK(strcmp(jwtv_error_name(JWTV_OK), "ok") == 0);
    CHECK(strcmp(jwtv_error_name(JWTV_EXPIRED), "expired") == 0);
    CHECK(strcmp(jwtv_error_name(JWTV_UNSUPPORTED_CRIT), "unsupported_crit") == 0);
    CHECK(JWTV_REVOKED == 17);
    CHECK(strcmp(jwtv_error_name(17), "revoked") == 0);
    CHECK(strcmp(jwtv_error_name(JWTV_BUFFER_TOO_SMALL), "buffer_too_small") == 0);
    CHECK(strcmp(jwtv_error_name(12345), "internal_error") == 0);
    CHECK(strcmp(jwtv_error_message(JWTV_EXPIRED), "the token has expired") == 0);
    for (uint32_t s = 0; s < 256; s++) {
        CHECK(jwtv_error_name(s) != NULL && jwtv_error_message(s) != NULL);
    }
}

static void test_config_arguments(void) {
    jwtv_config *config = NULL;
    jwtv_verifier *verifier = NULL;
    char err[256] = "";

    CHECK_STATUS(jwtv_config_new(NULL), JWTV_NULL_ARGUMENT);
    jwtv_config_free(NULL);
    jwtv_verifier_free(NULL);
    jwtv_token_free(NULL);
    CHECK_STATUS(jwtv_config_add_algorithm(NULL, "ES256"), JWTV_NULL_ARGUMENT);

    CHECK_STATUS(jwtv_config_new(&config), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_algorithm(config, NULL), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_config_add_algorithm(config, "none"), JWTV_INVALID_ARGUMENT);
    CHECK_STATUS(jwtv_config_add_algorithm(config, "ES512"), JWTV_INVALID_ARGUMENT);
    CHECK_STATUS(jwtv_config_add_issuer(config, "\xff\xfe"), JWTV_INVALID_UTF8);
    CHECK_STATUS(jwtv_config_set_max_token_len(config, 0), JWTV_INVALID_ARGUMENT);
    CHECK_STATUS(jwtv_config_set_jwks(config, NULL, 10), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_config_set_jwks(config, (const uint8_t *)"x", SIZE_MAX), JWTV_INVALID_ARGUMENT);

    /* No algorithm and no keys: a message says what is missing. */
    CHECK_STATUS(jwtv_verifier_new(config, &verifier, err, sizeof err), JWTV_CONFIG_ERROR);
    CHECK(strstr(err, "no algorithm") != NULL);
    CHECK(verifier == NULL);
    CHECK_STATUS(jwtv_config_add_algorithm(config, "HS256"), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_new(config, &verifier, err, sizeof err), JWTV_CONFIG_ERROR);
    CHECK(strstr(err, "no keys") != NULL);
    /* A tiny error buffer gets a truncated, NUL-terminated message. */
    char tiny[8];
    CHECK_STATUS(jwtv_verifier_new(config, &verifier, tiny, sizeof tiny), JWTV_CONFIG_ERROR);
    CHECK(strlen(tiny) == 7);
    CHECK_STATUS(jwtv_verifier_new(config, &verifier, NULL, 0), JWTV_CONFIG_ERROR);
    CHECK_STATUS(jwtv_verifier_new(config, NULL, err, sizeof err), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_verifier_new(NULL, &verifier, err, sizeof err), JWTV_NULL_ARGUMENT);

    /* Short HMAC secrets and private PEM keys are refused. */
    CHECK_STATUS(jwtv_config_add_hmac_secret(config, (const uint8_t *)"short", 5, "HS256", NULL), JWTV_CONFIG_ERROR);
    size_t pem_len = 0;
    char *private_pem = read_example("keys/test-es256.pem", &pem_len);
    CHECK_STATUS(jwtv_config_add_pem_key(config, (const uint8_t *)private_pem, pem_len, "ES256", "k"), JWTV_CONFIG_ERROR);
    free(private_pem);

    /* Both a JWKS and individual keys: refused, with a message. */
    size_t secret_len = 0;
    char *secret = read_example("keys/test-hs256.secret", &secret_len);
    CHECK_STATUS(jwtv_config_add_hmac_secret(config, (const uint8_t *)secret, secret_len, "HS256", "test-hs256"), JWTV_OK);
    CHECK_STATUS(jwtv_config_set_jwks_file(config, example_path("jwks.json")), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_new(config, &verifier, err, sizeof err), JWTV_CONFIG_ERROR);
    CHECK(strstr(err, "choose one key source") != NULL);
    free(secret);
    jwtv_config_free(config);

    /* A JWKS URL that is not http(s). */
    CHECK_STATUS(jwtv_config_new(&config), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_algorithm(config, "ES256"), JWTV_OK);
    CHECK_STATUS(jwtv_config_set_jwks_url(config, "ftp://issuer.example/jwks"), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_new(config, &verifier, err, sizeof err), JWTV_CONFIG_ERROR);
    CHECK(strstr(err, "scheme") != NULL);
    jwtv_config_free(config);
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

static void test_other_key_sources(void) {
    jwtv_config *config = NULL;
    jwtv_verifier *verifier = NULL;
    char err[256] = "";
    size_t len = 0, token_len = 0;

    /* A policy file. */
    CHECK_STATUS(jwtv_verifier_from_policy_file(example_path("policy.json"), &verifier, err, sizeof err), JWTV_OK);
    char *t = read_example("tokens/valid-eddsa.jwt", &token_len);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)t, token_len, 0, NULL, NULL, 0), JWTV_OK);
    free(t);
    jwtv_verifier_free(verifier);
    verifier = NULL;
    CHECK_STATUS(jwtv_verifier_from_policy_file(example_path("no-such-policy.json"), &verifier, err, sizeof err),
                 JWTV_CONFIG_ERROR);
    CHECK(strstr(err, "no-such-policy.json") != NULL);
    CHECK_STATUS(jwtv_verifier_from_policy_file(NULL, &verifier, err, sizeof err), JWTV_NULL_ARGUMENT);

    /* A policy document in memory, checked first, paths relative to base_dir. */
    const char *policy = "{\"keys\":{\"jwks_file\":\"jwks.json\"},\"algorithms\":[\"EdDSA\"],\"audiences\":[\"api\"]}";
    CHECK_STATUS(jwtv_policy_check((const uint8_t *)policy, strlen(policy), examples, err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_from_policy_json((const uint8_t *)policy, strlen(policy), examples, &verifier, err,
                                                sizeof err),
                 JWTV_OK);
    t = read_example("tokens/valid-eddsa.jwt", &token_len);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)t, token_len, 0, NULL, NULL, 0), JWTV_OK);
    free(t);
    jwtv_verifier_free(verifier);
    const char *bad_policy = "{\"keys\":{\"jwks_file\":\"jwks.json\"},\"algorithms\":[\"EdDSA\"],\"leeway\":1}";
    CHECK_STATUS(jwtv_policy_check((const uint8_t *)bad_policy, strlen(bad_policy), examples, err, sizeof err),
                 JWTV_CONFIG_ERROR);
    CHECK(strstr(err, "unknown field `leeway`") != NULL);
    const char *missing_file = "{\"keys\":{\"jwks_file\":\"nope.json\"},\"algorithms\":[\"EdDSA\"]}";
    CHECK_STATUS(jwtv_policy_check((const uint8_t *)missing_file, strlen(missing_file), examples, err, sizeof err),
                 JWTV_CONFIG_ERROR);
    CHECK(strstr(err, "keys.jwks_file") != NULL);
    const char *url = "{\"keys\":{\"jwks_url\":\"https://issuer.example/jwks\"},\"algorithms\":[\"ES256\"]}";
    CHECK_STATUS(jwtv_policy_check((const uint8_t *)url, strlen(url), NULL, err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_from_policy_json((const uint8_t *)bad_policy, strlen(bad_policy), examples, &verifier,
                                                err, sizeof err),
                 JWTV_CONFIG_ERROR);
    CHECK_STATUS(jwtv_verifier_from_policy_json(NULL, 5, NULL, &verifier, err, sizeof err), JWTV_NULL_ARGUMENT);

    /* A JWKS in memory and an HMAC secret. */
    char *jwks = read_example("hs256-jwks.json", &len);
    CHECK_STATUS(jwtv_config_new(&config), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_algorithm(config, "HS256"), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_audience(config, "api"), JWTV_OK);
    CHECK_STATUS(jwtv_config_require_claim_value(config, "tenant", "acme"), JWTV_OK);
    CHECK_STATUS(jwtv_config_set_jwks(config, (const uint8_t *)jwks, len), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_new(config, &verifier, err, sizeof err), JWTV_OK);
    t = read_example("tokens/valid-hs256.jwt", &token_len);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)t, token_len, 0, NULL, NULL, 0), JWTV_OK);
    jwtv_verifier_free(verifier);
    jwtv_config_free(config);
    free(jwks);

    char *secret = read_example("keys/test-hs256.secret", &len);
    CHECK_STATUS(jwtv_config_new(&config), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_algorithm(config, "HS256"), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_audience(config, "api"), JWTV_OK);
    CHECK_STATUS(jwtv_config_require_claim_value(config, "tenant", "someone-else"), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_hmac_secret(config, (const uint8_t *)secret, len, "HS256", "test-hs256"), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_new(config, &verifier, err, sizeof err), JWTV_OK);
    char detail[64];
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)t, token_len, 0, NULL, detail, sizeof detail),
                 JWTV_BAD_CLAIM);
    CHECK(strcmp(detail, "tenant") == 0);
    jwtv_verifier_free(verifier);
    jwtv_config_free(config);
    free(secret);
    free(t);

    /* PEM public keys. */
    char *pem = read_example("keys/test-rs256.pub.pem", &len);
    CHECK_STATUS(jwtv_config_new(&config), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_algorithm(config, "RS256"), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_audience(config, "api"), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_pem_key(config, (const uint8_t *)pem, len, "RS256", "test-rs256"), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_pem_key(config, (const uint8_t *)pem, len, "ES256", NULL), JWTV_CONFIG_ERROR);
    CHECK_STATUS(jwtv_verifier_new(config, &verifier, err, sizeof err), JWTV_OK);
    t = read_example("tokens/valid-rs256.jwt", &token_len);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)t, token_len, 0, NULL, NULL, 0), JWTV_OK);
    /* A fixed `now` before the token's nbf: not valid yet. */
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)t, token_len, 1000, NULL, NULL, 0),
                 JWTV_NOT_YET_VALID);
    jwtv_verifier_free(verifier);
    jwtv_config_free(config);
    free(pem);
    free(t);
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
    jwtv_config *config = NULL;
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

    /* The setter's arguments. */
    CHECK_STATUS(jwtv_config_set_revocations(NULL, list), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_config_new(&config), JWTV_OK);
    CHECK_STATUS(jwtv_config_set_revocations(config, NULL), JWTV_NULL_ARGUMENT);
    CHECK_STATUS(jwtv_config_set_revocations(config, "\xff\xfe"), JWTV_INVALID_UTF8);
    jwtv_config_free(config);

    /* A configuration with the list: the revoked token is refused. */
    CHECK_STATUS(jwtv_config_new(&config), JWTV_OK);
    CHECK_STATUS(jwtv_config_set_jwks_file(config, example_path("jwks.json")), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_algorithm(config, "ES256"), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_audience(config, "api"), JWTV_OK);
    CHECK_STATUS(jwtv_config_set_revocations(config, list), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_new(config, &verifier, err, sizeof err), JWTV_OK);
    char *t = read_example("tokens/valid-es256.jwt", &token_len);
    CHECK_STATUS(jwtv_verifier_verify(verifier, (const uint8_t *)t, token_len, 0, NULL, detail, sizeof detail),
                 JWTV_REVOKED);
    CHECK(strcmp(detail, "jti") == 0);
    free(t);
    CHECK_STATUS(jwtv_verifier_revocation_status(verifier, &rs), JWTV_OK);
    CHECK(rs.has_list && rs.connected);
    CHECK(rs.entries == 3 && rs.jti == 1 && rs.sub == 1 && rs.kid == 1);
    CHECK(rs.sync_errors == 0 && rs.last_sync_unix > 1700000000u && rs.sync_lag_secs < 60);
    jwtv_metrics metrics;
    CHECK_STATUS(jwtv_verifier_metrics(verifier, &metrics), JWTV_OK);
    CHECK(metrics.rejected[JWTV_REVOKED - 1] == 1);
    size_t text_len = 0;
    CHECK_STATUS(jwtv_verifier_metrics_prometheus(verifier, NULL, 0, &text_len), JWTV_BUFFER_TOO_SMALL);
    char *text = malloc(text_len + 1);
    CHECK_STATUS(jwtv_verifier_metrics_prometheus(verifier, text, text_len + 1, NULL), JWTV_OK);
    CHECK(strstr(text, "jwtv_verifications_total{result=\"revoked\"} 1\n") != NULL);
    CHECK(strstr(text, "jwtv_revocations{kind=\"jti\"} 1\n") != NULL);
    CHECK(strstr(text, "jwtv_revocations_sync_lag_seconds ") != NULL);
    free(text);
    jwtv_verifier_free(verifier);
    verifier = NULL;

    /* Bad sources: JWTV_CONFIG_ERROR with a message. */
    CHECK_STATUS(jwtv_config_set_revocations(config, missing), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_new(config, &verifier, err, sizeof err), JWTV_CONFIG_ERROR);
    CHECK(verifier == NULL);
    CHECK(strstr(err, "revocations: ") == err && strstr(err, "missing.json") != NULL);
    CHECK_STATUS(jwtv_config_set_revocations(config, "https://revocations.example/list"), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_new(config, &verifier, err, sizeof err), JWTV_CONFIG_ERROR);
    CHECK(strstr(err, "unsupported scheme") != NULL);
    write_file(missing, "{\"jti\": []}");
    CHECK_STATUS(jwtv_config_set_revocations(config, missing), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_new(config, &verifier, err, sizeof err), JWTV_CONFIG_ERROR);
    CHECK(strstr(err, "invalid revocation list") != NULL);
    jwtv_config_free(config);

    /* A policy document names the list too; the check reads it. */
    char policy[512];
    const char *policy_format = "{\"keys\":{\"jwks_file\":\"jwks.json\"},\"algorithms\":[\"EdDSA\"],"
                                "\"audiences\":[\"api\"],\"revocations\":{\"source\":\"%s\"}}";
    snprintf(policy, sizeof policy, policy_format, "no-such-revocations.json");
    CHECK_STATUS(jwtv_policy_check((const uint8_t *)policy, strlen(policy), examples, err, sizeof err),
                 JWTV_CONFIG_ERROR);
    CHECK(strstr(err, "revocations.source") != NULL && strstr(err, "no-such-revocations.json") != NULL);
    snprintf(policy, sizeof policy, policy_format, list);
    CHECK_STATUS(jwtv_policy_check((const uint8_t *)policy, strlen(policy), examples, err, sizeof err), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_from_policy_json((const uint8_t *)policy, strlen(policy), examples, &verifier, err,
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
    jwtv_config *config = NULL;
    jwtv_verifier *verifier = NULL;
    jwtv_token *token = NULL;
    size_t secret_len = 0;
    char *secret = read_example("keys/test-hs256.secret", &secret_len);
    CHECK_STATUS(jwtv_config_new(&config), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_algorithm(config, "HS256"), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_hmac_secret(config, (const uint8_t *)secret, secret_len, "HS256", "test-hs256"), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_issuer(config, "https://issuer.example"), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_audience(config, "api"), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_new(config, &verifier, NULL, 0), JWTV_OK);
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
    jwtv_config_free(config);
    free(secret);
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
    jwtv_config *config = NULL;
    jwtv_verifier *verifier = NULL;
    jwtv_token *token = NULL;
    size_t secret_len = 0;
    char *secret = read_example("keys/test-hs256.secret", &secret_len);
    CHECK_STATUS(jwtv_config_new(&config), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_algorithm(config, "HS256"), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_hmac_secret(config, (const uint8_t *)secret, secret_len, "HS256", "test-hs256"), JWTV_OK);
    CHECK_STATUS(jwtv_config_add_audience(config, "api"), JWTV_OK);
    CHECK_STATUS(jwtv_verifier_new(config, &verifier, NULL, 0), JWTV_OK);
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
    jwtv_config_free(config);
    free(secret);
}

int main(int argc, char **argv) {
    if (argc > 1) examples = argv[1];
    test_error_names();
    test_config_arguments();
    test_verify_and_read_claims();
    test_claim_int64_rounding();
    test_strings_with_nul();
    test_other_key_sources();
    test_revocations();
    test_threads();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("libjwtv C tests: all checks passed\n");
    return 0;
}

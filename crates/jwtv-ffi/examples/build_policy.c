/* Builds a policy field by field, then verifies one token under it:
 * ./build_policy JWKS.json ISSUER AUDIENCE TOKEN
 * Any field of the policy document (docs/POLICY.md) is set by its path. */
#include <jwtv.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s JWKS.json ISSUER AUDIENCE TOKEN\n", argv[0]);
        return 2;
    }
    char err[256] = "";
    jwtv_policy *policy = NULL;
    jwtv_verifier *verifier = NULL;
    if (jwtv_policy_new(&policy) != JWTV_OK) return 2;
    /* Each change is read as a policy file would be: a refused one leaves the
     * policy as it was and names the field in err ("leeway_secs: at most 300 s…"). */
    if (jwtv_policy_set_string(policy, "keys.jwks_file", argv[1], err, sizeof err) != JWTV_OK ||
        jwtv_policy_set(policy, "algorithms", "[\"ES256\", \"EdDSA\"]", err, sizeof err) != JWTV_OK ||
        jwtv_policy_add_string(policy, "issuers", argv[2], err, sizeof err) != JWTV_OK ||
        jwtv_policy_add_string(policy, "audiences", argv[3], err, sizeof err) != JWTV_OK ||
        jwtv_policy_set_string(policy, "typ", "JWT", err, sizeof err) != JWTV_OK ||
        jwtv_policy_set(policy, "leeway_secs", "60", err, sizeof err) != JWTV_OK ||
        jwtv_policy_set(policy, "refresh.file_check_interval_ms", "5000", err, sizeof err) != JWTV_OK ||
        jwtv_verifier_from_policy(policy, 0, &verifier, err, sizeof err) != JWTV_OK) {
        fprintf(stderr, "policy: %s\n", err);
        jwtv_policy_free(policy);
        return 2;
    }
    jwtv_policy_free(policy); /* the verifier keeps what it needs */

    jwtv_token *token = NULL;
    char detail[64];
    jwtv_status status = jwtv_verifier_verify(verifier, (const uint8_t *)argv[4], strlen(argv[4]), 0 /* now */,
                                              &token, detail, sizeof detail);
    if (status == JWTV_OK) {
        char sub[256];
        if (jwtv_token_claim_string(token, "sub", sub, sizeof sub, NULL) == JWTV_OK) printf("valid: sub=%s\n", sub);
        jwtv_token_free(token);
    } else {
        printf("rejected: %s: %s %s\n", jwtv_error_name(status), jwtv_error_message(status), detail);
    }
    jwtv_verifier_free(verifier);
    return status == JWTV_OK ? 0 : 1;
}

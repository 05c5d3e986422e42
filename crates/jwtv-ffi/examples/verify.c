/* Verifies one token under a policy file: ./verify POLICY.json TOKEN */
#include <jwtv.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s POLICY.json TOKEN\n", argv[0]);
        return 2;
    }
    char err[256];
    jwtv_verifier *verifier = NULL; /* one per process, shared by all threads */
    if (jwtv_verifier_from_policy_file(argv[1], &verifier, err, sizeof err) != JWTV_OK) {
        fprintf(stderr, "policy: %s\n", err);
        return 2;
    }
    jwtv_token *token = NULL;
    char detail[64];
    jwtv_status status = jwtv_verifier_verify(verifier, (const uint8_t *)argv[2], strlen(argv[2]), 0 /* now */,
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

/* Links the no_std consumer's static library and runs its self-test. */
#include <stdio.h>

int jwtv_no_std_selftest(void);

int main(void) {
    int step = jwtv_no_std_selftest();
    if (step != 0) {
        fprintf(stderr, "no_std consumer: FAILED at step %d\n", step);
        return 1;
    }
    puts("no_std consumer: ok");
    return 0;
}

// Compiles policies with kafel (Tests/Fixtures/kafel, built by the differential test) and writes the
// programs, so the test can compare them with Pit's. Pit's own code, not kafel's.
//
// Input (stdin), one record per policy:  "<arch> <length>\n" then <length> bytes of policy text,
// <arch> one of x86_64, i386, aarch64, arm.
// Output (stdout), one record per policy: "OK <instructions>\n" then 8 bytes per instruction
// (struct sock_filter, host order), or "ERR <length>\n" then kafel's message.
#include <kafel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t arch_bit(const char *name) {
  if (strcmp(name, "x86_64") == 0) return KAFEL_TARGET_ARCH_X86_64;
  if (strcmp(name, "i386") == 0) return KAFEL_TARGET_ARCH_X86;
  if (strcmp(name, "aarch64") == 0) return KAFEL_TARGET_ARCH_AARCH64;
  if (strcmp(name, "arm") == 0) return KAFEL_TARGET_ARCH_ARM;
  return 0;
}

int main(void) {
  char arch[32];
  size_t length;
  while (scanf("%31s %zu", arch, &length) == 2) {
    if (getchar() != '\n') return 2;
    char *text = malloc(length + 1);
    if (text == NULL || fread(text, 1, length, stdin) != length) return 2;
    text[length] = '\0';
    uint32_t bit = arch_bit(arch);
    if (bit == 0) return 2;
    kafel_ctxt_t ctxt = kafel_ctxt_create();
    kafel_set_input_string(ctxt, text);
    kafel_set_target_archs(ctxt, bit);
    struct sock_fprog prog = {0, NULL};
    if (kafel_compile(ctxt, &prog) == 0) {
      printf("OK %u\n", (unsigned)prog.len);
      fwrite(prog.filter, sizeof(struct sock_filter), prog.len, stdout);
      free(prog.filter);
    } else {
      const char *msg = kafel_error_msg(ctxt);
      if (msg == NULL) msg = "?";
      printf("ERR %zu\n", strlen(msg));
      fputs(msg, stdout);
    }
    fflush(stdout);
    kafel_ctxt_destroy(&ctxt);
    free(text);
  }
  return 0;
}

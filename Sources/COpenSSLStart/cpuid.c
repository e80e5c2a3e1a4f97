// OpenSSL's x86 CPU detection, deferred from start-up to OpenSSL's first use.
//
// libcrypto's x86_64 code puts a call to OPENSSL_cpuid_setup into the .init section, so every process that
// links it runs the CPUID instruction several times before main. Under a hypervisor each CPUID is a trap
// (5.6 us on this VM): 15-30 us of every `pit` invocation (measured by skipping it through OPENSSL_ia32cap),
// though most never touch TLS or a cipher. Release builds link with --wrap=OPENSSL_cpuid_setup (Package.swift),
// which sends both callers, that .init snippet and OpenSSL's own initialisation (OPENSSL_init_crypto, run
// lazily by SSL_CTX_new, EVP cipher and digest set-up, HMAC), here: the call made before this module's
// .init_array entry has run (the .init one) is skipped, every later one goes to OpenSSL's function, which
// runs once. Without the wrap (debug builds, or libcrypto linked dynamically, where the .init call stays in
// the library) nothing here is called.
#include "COpenSSLStart.h"

extern void __real_OPENSSL_cpuid_setup(void) __attribute__((weak));

// volatile, and an .init_array entry rather than a constructor: the compiler evaluates a constructor that
// only stores a constant at build time, which would make the flag true from the start.
static volatile int past_start_up;
static void mark_past_start_up(void) { past_start_up = 1; }
__attribute__((section(".init_array"), used)) static void (*const mark_past_start_up_entry)(void) = mark_past_start_up;

void __wrap_OPENSSL_cpuid_setup(void) {
    if (!past_start_up) return;
    if (__real_OPENSSL_cpuid_setup) __real_OPENSSL_cpuid_setup();
}

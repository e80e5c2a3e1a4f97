#ifndef PIT_OPENSSL_START_H
#define PIT_OPENSSL_START_H
// Nothing to call: cpuid.c only defines __wrap_OPENSSL_cpuid_setup, which release links route OpenSSL's own
// calls to (Package.swift).
#endif

import Glibc
import PitTestSupport
import XCTest

/// COpenSSLStart's wrapper, linked the way release builds of `pit` link it (static, --wrap and -u, see
/// Package.swift) against the system's libcrypto.a: OpenSSL's CPU detection must not run before main, and must
/// have run once OpenSSL is used, by a digest, an HMAC or a cipher's set-up (the uplink's three uses).
final class OpenSSLStartTests: XCTestCase {
    func test_cpuDetectionWaitsForOpenSSLsFirstUse() throws {
        #if !arch(x86_64)
        throw XCTSkip("OPENSSL_ia32cap_P, and the .init call this defers, are x86 only")
        #else
        let root = String(#filePath.dropLast("/Tests/PitUplinkTests/OpenSSLStartTests.swift".count))
        // The clang and lld of the Swift toolchain that runs `swift test`, found through the test's own PATH.
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        let dir = ScratchDirectory()
        dir.write("probe.c", """
            #include <stdio.h>
            #include <string.h>
            #include <openssl/evp.h>
            #include <openssl/hmac.h>
            #include <openssl/sha.h>
            extern unsigned int OPENSSL_ia32cap_P[];
            int main(int argc, char **argv) {
                printf("%x ", OPENSSL_ia32cap_P[0]);
                unsigned char out[64]; unsigned int length;
                if (!strcmp(argv[1], "digest")) SHA256((const unsigned char *)"x", 1, out);
                if (!strcmp(argv[1], "hmac")) HMAC(EVP_sha256(), "k", 1, (const unsigned char *)"d", 1, out, &length);
                if (!strcmp(argv[1], "cipher")) {
                    unsigned char key[32] = {0}, nonce[12] = {0};
                    EVP_EncryptInit_ex(EVP_CIPHER_CTX_new(), EVP_chacha20_poly1305(), NULL, key, nonce);
                }
                printf("%x\\n", OPENSSL_ia32cap_P[0]);
                return 0;
            }
            """)
        let build = Process.run(["/usr/bin/env", "PATH=\(path)", "clang", "-O2", "-static", "-fuse-ld=lld", "-I", "\(root)/Sources/COpenSSLStart/include",
                                 "-o", "\(dir.path)/probe", "\(dir.path)/probe.c", "\(root)/Sources/COpenSSLStart/cpuid.c",
                                 "-lcrypto", "-Wl,--wrap=OPENSSL_cpuid_setup", "-Wl,-u,OPENSSL_cpuid_setup"])
        XCTAssertEqual(build.status, 0, build.stderr)
        for use in ["digest", "hmac", "cipher"] {
            let r = Process.run(["\(dir.path)/probe", use])
            XCTAssertEqual(r.status, 0, r.stderr)
            let caps = r.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" })
            XCTAssertEqual(caps.count, 2, r.stdout)
            XCTAssertEqual(caps.first, "0", "CPU detection ran before main (\(use))")
            // OpenSSL marks the vector as initialised with bit 10 whatever the CPU.
            XCTAssertNotEqual((UInt32(caps.last ?? "", radix: 16) ?? 0) & (1 << 10), 0, "not detected after \(use): \(r.stdout)")
        }
        #endif
    }
}

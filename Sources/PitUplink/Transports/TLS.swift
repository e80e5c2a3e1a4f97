import COpenSSL
import Glibc

/// TLS client side over the system OpenSSL (libssl/libcrypto): already on most ARM Linux images, so the dynamic
/// build adds nothing to the image, and a static link adds only the TLS client paths the linker keeps.
///
/// Server authentication, either or both:
/// - `caFile`: the chain must verify against the PEM CA(s) in the file (not the system store: the collector's CA is
///   the only one that should be trusted), and the certificate must name the URL's host (DNS SAN, or IP SAN for an
///   address literal).
/// - `pin`: SHA-256 of the certificate's SubjectPublicKeyInfo (DER). The key rather than the whole certificate, so
///   renewing the certificate with the same key does not break devices in the field
///   (`openssl x509 -in cert.pem -pubkey -noout | openssl pkey -pubin -outform der | sha256sum`).
///
/// A class: it owns the SSL_CTX, which must be freed exactly once.
final class TLSContext {
    let context: OpaquePointer
    let pin: [UInt8]?

    init(caFile: String?, pin: [UInt8]?) throws(UplinkError) {
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw UplinkError(operation: "tls context", target: caFile ?? "-", reason: Self.lastError())
        }
        self.context = context
        self.pin = pin
        _ = pit_ssl_ctx_set_min_tls12(context)
        _ = pit_ssl_ctx_set_modes(context)
        pit_ssl_ctx_ignore_unexpected_eof(context)
        if let caFile {
            ERR_clear_error()
            guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                throw UplinkError(operation: "load ca_file", target: caFile, reason: Self.lastError())
            }
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        } else {
            // Pin only: the chain is not checked against any CA; the pin, checked after the handshake, is the trust.
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        }
    }

    deinit { SSL_CTX_free(context) }

    /// The oldest queued OpenSSL error as text (and clears the queue).
    static func lastError() -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        if code == 0 { return "unknown TLS error" }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeBufferPointer { _ = SHA256($0.baseAddress, $0.count, &out) }
        return out
    }

    static func hmacSHA256(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 32
        key.withUnsafeBufferPointer { k in
            data.withUnsafeBufferPointer { d in
                _ = HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), d.baseAddress, d.count, &out, &length)
            }
        }
        return out
    }
}

/// One TLS session over a connected socket; the socket is non-blocking, so every OpenSSL call that wants the
/// network waits in poll(2) against the deadline.
struct TLSStream: ~Copyable {
    let socket: Socket
    let ssl: OpaquePointer

    init(socket: consuming Socket, context: TLSContext, host: String, deadline: Int64) throws(UplinkError) {
        // Both fields are set before anything can throw: a noncopyable value must be whole or absent.
        let ssl = SSL_new(context.context)
        self.ssl = ssl ?? OpaquePointer(bitPattern: 1)!
        self.socket = socket
        guard ssl != nil else {
            throw UplinkError(operation: "tls", target: self.socket.peer, reason: TLSContext.lastError())
        }
        SSL_set_fd(ssl, self.socket.fd)
        var address = in6_addr()
        let isAddress = inet_pton(AF_INET, host, &address) == 1 || inet_pton(AF_INET6, host, &address) == 1
        if isAddress {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host)
        } else {
            _ = pit_ssl_set_sni(ssl, host)
            SSL_set1_host(ssl, host)
        }
        try handshake(deadline: deadline)
        if let pin = context.pin { try checkPin(pin) }
    }

    deinit { if ssl != OpaquePointer(bitPattern: 1)! { SSL_free(ssl) } }

    private func handshake(deadline: Int64) throws(UplinkError) {
        ERR_clear_error()
        while true {
            let rc = SSL_connect(ssl)
            if rc == 1 { return }
            do throws(UplinkError) {
                try retry(rc, operation: "tls handshake", deadline: deadline)
            } catch {
                // A failed verification is the common, actionable case: say which check failed.
                let verify = SSL_get_verify_result(ssl)
                if verify != X509_V_OK {
                    throw UplinkError(operation: "tls verify", target: socket.peer,
                                      reason: String(cString: X509_verify_cert_error_string(verify)))
                }
                throw error
            }
        }
    }

    private func checkPin(_ pin: [UInt8]) throws(UplinkError) {
        guard let certificate = pit_ssl_peer_certificate(ssl) else {
            throw UplinkError(operation: "tls pin", target: socket.peer, reason: "server sent no certificate")
        }
        defer { X509_free(certificate) }
        let key = X509_get_X509_PUBKEY(certificate)
        let length = i2d_X509_PUBKEY(key, nil)
        guard length > 0 else { throw UplinkError(operation: "tls pin", target: socket.peer, reason: "no public key") }
        var der = [UInt8](repeating: 0, count: Int(length))
        der.withUnsafeMutableBufferPointer { buffer in
            var p: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            _ = i2d_X509_PUBKEY(key, &p)
        }
        let actual = TLSContext.sha256(der)
        guard actual == pin else {
            throw UplinkError(operation: "tls pin", target: socket.peer,
                              reason: "server key SHA-256 \(Hex.encode(actual)) does not match pin_sha256")
        }
    }

    /// After an OpenSSL call returned `rc` <= 0: waits and returns if it asked to be retried, throws otherwise.
    private func retry(_ rc: Int32, operation: String, deadline: Int64) throws(UplinkError) {
        let error = SSL_get_error(ssl, rc)
        switch error {
        case SSL_ERROR_WANT_READ: try socket.wait(for: Int16(POLLIN), deadline: deadline, operation: operation)
        case SSL_ERROR_WANT_WRITE: try socket.wait(for: Int16(POLLOUT), deadline: deadline, operation: operation)
        case SSL_ERROR_SYSCALL where errno != 0:
            throw UplinkError.sys(operation, socket.peer)
        default:
            throw UplinkError(operation: operation, target: socket.peer, reason: TLSContext.lastError())
        }
    }

    func writeAll(_ bytes: [UInt8], deadline: Int64) throws(UplinkError) {
        ERR_clear_error()
        var written = 0
        while written < bytes.count {
            let rc = bytes.withUnsafeBytes { SSL_write(ssl, $0.baseAddress! + written, Int32($0.count - written)) }
            if rc > 0 { written += Int(rc); continue }
            try retry(rc, operation: "tls send", deadline: deadline)
        }
    }

    /// Up to `max` bytes; empty at the end of the stream (close_notify or, tolerated, a bare TCP close).
    func read(max: Int, deadline: Int64) throws(UplinkError) -> [UInt8] {
        ERR_clear_error()
        var buffer = [UInt8](repeating: 0, count: max)
        while true {
            let rc = buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32(max)) }
            if rc > 0 { return Array(buffer[0..<Int(rc)]) }
            let error = SSL_get_error(ssl, rc)
            if error == SSL_ERROR_ZERO_RETURN || (error == SSL_ERROR_SYSCALL && errno == 0) { return [] }
            try retry(rc, operation: "tls receive", deadline: deadline)
        }
    }
}

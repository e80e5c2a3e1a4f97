#if canImport(Glibc)
import Glibc
#endif
@testable import PitPolicy

/// A fresh directory under /tmp, removed (one level deep) on deinit.
final class TempDir {
    let path: String
    private var files: [String] = []

    init() throws {
        var template = Array("/tmp/pit-policy-test-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let p else { throw PolicyError("mkdtemp failed", file: "/tmp") }
        path = String(cString: p)
    }

    func write(_ name: String, _ text: String) throws {
        try PolicyReport.write(path + "/" + name, bytes: Array(text.utf8))
        files.append(name)
    }

    deinit {
        for f in files { unlink(path + "/" + f) }
        rmdir(path)
    }
}

import Glibc

/// The jails' log files, `<data_dir>/logs/NAME.log`: what a jail wrote, as escaped lines, so it survives a
/// restart of Pit or of the board. Each file is cut at `capBytes`: it is renamed to NAME.log.1 (replacing the
/// one before) and a new one begun, so a jail holds at most twice that on disk. Nothing here follows a symlink:
/// the directory is opened O_NOFOLLOW, files are opened O_NOFOLLOW under it (a symlink found in a file's place is
/// removed), and rename(2) replaces a name without looking where it points. A FIFO or device in a file's
/// place is left alone (opened nonblocking, refused unless a regular file).
///
/// Used on a LogWriter's thread only (Supervisor.swift makes that writer): a write to slow flash waits there,
/// never in the loop. How much reaches the files is bounded before that, in JailOutput.
final class JailLogFiles {
    static let capBytes = 256 * 1024
    let directory: String
    private var directoryFD: Int32 = -1
    private var files: [String: (fd: Int32, size: Int)] = [:]

    init(dataDirectory: String) {
        directory = dataDirectory + "/logs"
    }

    func write(_ name: String?, _ bytes: [UInt8]) {
        guard let name, var file = open(name) else { return }
        if file.size > 0 && file.size + bytes.count > Self.capBytes {
            close(file.fd)
            files[name] = nil
            _ = renameat(directoryFD, "\(name).log", directoryFD, "\(name).log.1")
            guard let fresh = open(name) else { return }
            file = fresh
        }
        LogWriter.writeAll(bytes, to: file.fd)
        files[name] = (file.fd, file.size + bytes.count)
    }

    private func open(_ name: String) -> (fd: Int32, size: Int)? {
        if let file = files[name] { return file }
        if directoryFD < 0 {
            _ = mkdir(directory, 0o700)
            directoryFD = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard directoryFD >= 0 else { return nil }
        }
        let path = "\(name).log"
        let flags = O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC
        var fd = openat(directoryFD, path, flags, 0o600)
        if fd < 0 && errno == ELOOP {
            _ = unlinkat(directoryFD, path, 0)
            fd = openat(directoryFD, path, flags, 0o600)
        }
        guard fd >= 0 else { return nil }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { close(fd); return nil }
        files[name] = (fd, Int(info.st_size))
        return files[name]
    }
}

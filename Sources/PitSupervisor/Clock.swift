import Glibc

/// CLOCK_MONOTONIC in milliseconds: every deadline in the supervisor is one of these.
public func monotonicMilliseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}

import Glibc

/// CLOCK_MONOTONIC in milliseconds: the one clock for every deadline and interval in Pit (the supervisor's loop,
/// a jail's time limit, a transport's timeout). It never jumps when the wall clock is set, which a device whose
/// clock comes from the network does at every boot.
public func monotonicMilliseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}

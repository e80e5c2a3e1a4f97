/// Syscalls the kernel has and libseccomp 2.5.4 cannot name, per architecture: from the kernel's own
/// tables, written by `image/gen-kernel-syscalls` (see there). `KernelSyscallTests` checks them against libseccomp
/// (which must know none of them) and against the running kernel.
///
/// The compiler resolves these names (SyscallNames.buildTable adds them where libseccomp has nothing at the name or
/// the number) and filters them by number on the architecture it runs on; libseccomp translates another
/// architecture's rules by name, so there they need a libseccomp that knows them (compile on the device).
public enum KernelSyscalls {
    /// Per architecture (SeccompArch.name): (number, name) the kernel's table adds to libseccomp's.
    public static let byArch: [String: [(Int, String)]] = [
        "x86_64": [
            (335, "uretprobe"), (457, "statmount"), (458, "listmount"), (459, "lsm_get_self_attr"),
            (460, "lsm_set_self_attr"), (461, "lsm_list_modules"), (462, "mseal"), (463, "setxattrat"),
            (464, "getxattrat"), (465, "listxattrat"), (466, "removexattrat"), (467, "open_tree_attr"),
            (468, "file_getattr"), (469, "file_setattr"),
        ],
        "x32": [
            (0x4000014f, "uretprobe"), (0x400001c9, "statmount"), (0x400001ca, "listmount"), (0x400001cb, "lsm_get_self_attr"),
            (0x400001cc, "lsm_set_self_attr"), (0x400001cd, "lsm_list_modules"), (0x400001ce, "mseal"), (0x400001cf, "setxattrat"),
            (0x400001d0, "getxattrat"), (0x400001d1, "listxattrat"), (0x400001d2, "removexattrat"), (0x400001d3, "open_tree_attr"),
            (0x400001d4, "file_getattr"), (0x400001d5, "file_setattr"),
        ],
        "i386": [
            (457, "statmount"), (458, "listmount"), (459, "lsm_get_self_attr"), (460, "lsm_set_self_attr"),
            (461, "lsm_list_modules"), (462, "mseal"), (463, "setxattrat"), (464, "getxattrat"),
            (465, "listxattrat"), (466, "removexattrat"), (467, "open_tree_attr"), (468, "file_getattr"),
            (469, "file_setattr"),
        ],
        "aarch64": [
            (457, "statmount"), (458, "listmount"), (459, "lsm_get_self_attr"), (460, "lsm_set_self_attr"),
            (461, "lsm_list_modules"), (462, "mseal"), (463, "setxattrat"), (464, "getxattrat"),
            (465, "listxattrat"), (466, "removexattrat"), (467, "open_tree_attr"), (468, "file_getattr"),
            (469, "file_setattr"),
        ],
        "arm": [
            (457, "statmount"), (458, "listmount"), (459, "lsm_get_self_attr"), (460, "lsm_set_self_attr"),
            (461, "lsm_list_modules"), (462, "mseal"), (463, "setxattrat"), (464, "getxattrat"),
            (465, "listxattrat"), (466, "removexattrat"), (467, "open_tree_attr"), (468, "file_getattr"),
            (469, "file_setattr"),
        ],
    ]
}

import PitJail
import PitSupervisor
import XCTest

/// Pit under systemd (Delegate=yes) or procd on a pure cgroup v2 system: it must leave its service cgroup
/// for a leaf so the jails' cgroups can get controllers (the real move is exercised in the board VM;
/// this machine's controllers are v1 hierarchies).
final class CgroupLeafTests: XCTestCase {
    let mountinfo = """
        25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        28 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
        """

    func test_serviceCgroupWithJailControllersMovesIntoALeaf_jailsGoBesideIt() {
        let leaf = CgroupLeaf.plan(procSelfCgroup: "0::/system.slice/pit.service\n", mountinfo: mountinfo) { path in
            path == "/sys/fs/cgroup/system.slice/pit.service" ? "cpuset cpu io memory pids\n" : nil
        }
        XCTAssertEqual(leaf, "/sys/fs/cgroup/system.slice/pit.service/pit-supervisor")
        XCTAssertEqual(CgroupLayout.jailParent(ofV2Path: "/system.slice/pit.service/pit-supervisor"), "/system.slice/pit.service")
        XCTAssertEqual(CgroupLayout.jailParent(ofV2Path: "/pit-supervisor"), "/")
        XCTAssertEqual(CgroupLayout.jailParent(ofV2Path: "/system.slice/pit.service"), "/system.slice/pit.service")
        XCTAssertEqual(CgroupLayout.jailParent(ofV2Path: "/x/not-pit-supervisor"), "/x/not-pit-supervisor")
    }

    /// The mount point is read as the jails' cgroups read it (CgroupLayout): mountinfo escapes a space as \\040.
    func test_escapedMountPointIsUnescaped() {
        let spaced = "28 25 0:26 / /run/cg\\040two rw - cgroup2 cgroup2 rw\n"
        let leaf = CgroupLeaf.plan(procSelfCgroup: "0::/pit.service\n", mountinfo: spaced) { path in
            path == "/run/cg two/pit.service" ? "memory pids\n" : nil
        }
        XCTAssertEqual(leaf, "/run/cg two/pit.service/pit-supervisor")
    }

    func test_noMoveAtTheRootInTheLeafWithoutV2ControllersOrWithoutCgroup2() {
        let all: (String) -> String? = { _ in "memory pids cpu" }
        XCTAssertNil(CgroupLeaf.plan(procSelfCgroup: "0::/\n", mountinfo: mountinfo, controllersOf: all))
        XCTAssertNil(CgroupLeaf.plan(procSelfCgroup: "0::/system.slice/pit.service/pit-supervisor\n", mountinfo: mountinfo, controllersOf: all))
        // Hybrid layout: memory/pids/cpu are v1 hierarchies, the unified one has none of them.
        XCTAssertNil(CgroupLeaf.plan(procSelfCgroup: "4:memory:/user.slice\n0::/user.slice\n", mountinfo: mountinfo) { _ in "hugetlb\n" })
        XCTAssertNil(CgroupLeaf.plan(procSelfCgroup: "0::/system.slice/pit.service\n", mountinfo: "", controllersOf: all))
    }
}

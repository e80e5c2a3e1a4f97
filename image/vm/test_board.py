#!/usr/bin/env python3
"""The board VM suite: boots the test image (image/build-test-image) under QEMU and checks what a technician
and the uplink's receiver would observe. Run through `bash image/test-board`.

The VM: Debian's kernel + a busybox initramfs with a static pit, an i6300esb watchdog, gpio-sim LEDs, Pit's
console on the first virtio console (a host unix socket), a test-only command loop on the second one
(image/vm/agent), an ext4 data disk that survives resets, and user networking whose 10.0.2.100:6514 is
forwarded (guestfwd) to a syslog receiver this script runs on host loopback. QMP reports the watchdog's bite.

The device config is the shipped appliance (image/build-test-image derives it): the persona applied to the VM's
NIC and Samba (Debian's binaries) in its three jails, reached by the host's smbclient through host forwards to
the guest's 445 and 139; plus the busybox httpd decoy whose CGI makes a violation.

Checks, in order: boot; OpenWrt's watchdog hand-over against procd's own watchdog.c, which image/vm/init runs
before Pit starts (Tests/Fixtures/procd: the old "stop" message gets EBUSY from procd before 254810d, magicclose +
stop frees the device with the 'V' on both procd versions, then Pit holds it while that procd lives on); Samba
accepting (dcerpcd, smbd, nmbd running, the persona on eth0); the LEDs read "ok" on the gpio-sim lines; console
commands answered; the jail's cgroup v2 limits; the share listing from the host; reading a decoy file raises
exactly one smb_access at the receiver, a logon attempt an smb_logon; a violation in the jail reaches the
receiver; `kill -STOP` of pit makes the watchdog reset the VM within timeout + 1 s and, after the reboot,
watchdog_reset reaches the receiver; after safe_mode_after resets the box comes up in safe mode (and leaves it
with `safe-mode clear`); `kill -STOP` of smbd's jail (required) fails health and, past the grace, the watchdog
resets the VM; a persona broken on the device leaves the box up (console, LEDs degraded, config_error at the
receiver, no reset) until fixed and reloaded.
Every timing printed is measured here; any failed check exits 1 and keeps the work directory.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMAGE = os.environ.get("PIT_IMAGE_OUT", os.path.join(REPO, ".build-image"))
WATCHDOG_TIMEOUT_S = 5      # image/vm/device.toml [watchdog] timeout_s
SAFE_MODE_AFTER = 2         # image/vm/device.toml [watchdog] safe_mode_after
CONSOLE_PIN = "4242"        # image/vm/device.toml [console] pin
HEALTH_GRACE_S = 15         # image/vm/device.toml [watchdog] health_grace_s
GUEST_RECEIVER = "10.0.2.100:6514"
GUEST_ADDRESS = "10.0.2.15"  # the persona's address on the VM (image/vm/persona.sed)
SAMBA_JAILS = ("dcerpcd", "smbd", "nmbd")
DECOY_FILE = ("finance", "vendor-payments.txt")   # policies/decoys/finance
BOOT_TIMEOUT_S = float(os.environ.get("PIT_VM_BOOT_TIMEOUT", "180"))
SIM = "/sys/devices/platform/gpio-sim.0/gpiochip0/sim_gpio{}/value"   # lines: 0 status, 1 alert, 2 uplink

started = time.time()


class CheckFailed(Exception):
    pass


def log(message):
    print(f"[{time.time() - started:6.1f}s] {message}", flush=True)


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def wait_until(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise CheckFailed(f"timed out after {timeout:.0f} s waiting for {what}")


class Receiver:
    """A syslog receiver (RFC 6587 octet counting over TCP) on host loopback; keeps every event with its arrival time."""

    def __init__(self):
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        self.events = []        # (arrival time, event dict)
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._read, args=(connection,), daemon=True).start()

    def _read(self, connection):
        buffer = b""
        while True:
            try:
                chunk = connection.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while True:
                space = buffer.find(b" ")
                if space <= 0 or not buffer[:space].isdigit():
                    break
                length = int(buffer[:space])
                if len(buffer) < space + 1 + length:
                    break
                frame, buffer = buffer[space + 1:space + 1 + length], buffer[space + 1 + length:]
                brace = frame.find(b"] {")
                try:
                    event = json.loads(frame[brace + 2:]) if brace >= 0 else {"unparsed": frame.decode(errors="replace")}
                except ValueError:
                    event = {"unparsed": frame.decode(errors="replace")}
                with self.lock:
                    self.events.append((time.time(), event))

    def find(self, kind, after=0.0, **fields):
        with self.lock:
            for arrived, event in self.events:
                if arrived >= after and event.get("kind") == kind and all(event.get(k) == v for k, v in fields.items()):
                    return arrived, event
        return None

    def count(self, kind):
        with self.lock:
            return sum(1 for _, event in self.events if event.get("kind") == kind)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def smbclient(arguments, port, timeout=60):
    """The host's smbclient against the decoy through QEMU's forward of `port` to the guest's 445."""
    run = subprocess.run(["smbclient", "-p", str(port)] + arguments, capture_output=True, text=True, timeout=timeout)
    return run.returncode, run.stdout + run.stderr


def connect_unix(path, what, timeout=30):
    """A stream socket connected to QEMU's unix socket `path`, which appears once QEMU is up."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)

    def attempt():
        try:
            sock.connect(path)
            return True
        except OSError:
            return False
    wait_until(attempt, timeout, what)
    return sock


class Stream:
    """A unix-socket chardev of QEMU (a virtio console); a reader thread keeps everything that arrives."""

    def __init__(self, path, name):
        self.name = name
        self.sock = connect_unix(path, f"QEMU's socket {path}")
        self.text = ""
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                self.text += chunk.decode(errors="replace")

    def mark(self):
        with self.lock:
            return len(self.text)

    def since(self, mark):
        with self.lock:
            return self.text[mark:]

    def send(self, line):
        self.sock.sendall(line.encode() + b"\n")


class Agent(Stream):
    """The test-only command loop on /dev/hvc1 (image/vm/agent): one shell line, its output, then __rc=N."""

    def ready_count(self):
        with self.lock:
            return self.text.count("__agent ready")

    def run(self, command, timeout=30):
        mark = self.mark()
        self.send(command)
        found = wait_until(lambda: re.search(r"__rc=(\d+)\n", self.since(mark)), timeout, f"the agent to run {command!r}")
        output = self.since(mark)[:found.start()]
        return int(found.group(1)), output


class Console(Stream):
    """Pit's serial console on /dev/hvc0."""

    def ask(self, command, timeout=15):
        """Sends a command, returns (text until the next prompt, seconds to answer)."""
        mark = self.mark()
        sent = time.time()
        self.send(command)
        wait_until(lambda: re.search(r"\n.*pit> ", self.since(mark)) or "pit> " in self.since(mark)[len(command):],
                   timeout, f"the console to answer {command!r}")
        return self.since(mark), time.time() - sent

    def ask_json(self, command, timeout=15):
        mark = self.mark()
        sent = time.time()
        self.send("json " + command)
        line = wait_until(lambda: re.search(r'(\{"ok".*)\n', self.since(mark)), timeout, f"a JSON answer to {command!r}")
        return json.loads(line.group(1)), time.time() - sent


class QMP:
    """QEMU's monitor protocol: collects events (WATCHDOG, RESET) with QEMU's own timestamps."""

    def __init__(self, path):
        self.sock = connect_unix(path, "the QMP socket")
        self.file = self.sock.makefile("rwb")
        self.file.readline()    # greeting
        self.events = []
        self.lock = threading.Lock()
        self.file.write(b'{"execute": "qmp_capabilities"}\n')
        self.file.flush()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            for line in self.file:
                message = json.loads(line)
                if "event" in message:
                    stamp = message["timestamp"]["seconds"] + message["timestamp"]["microseconds"] / 1e6
                    with self.lock:
                        self.events.append((stamp, message["event"], message.get("data", {})))
        except (OSError, ValueError):
            return      # QEMU has quit

    def find(self, name, after):
        with self.lock:
            return next(((t, data) for t, event, data in self.events if event == name and t >= after), None)

    def quit(self):
        try:
            self.file.write(b'{"execute": "quit"}\n')
            self.file.flush()
        except OSError:
            pass


def sample_leds(agent, seconds):
    """Reads the three gpio-sim lines in the guest every ~20 ms; returns [(status, alert, uplink), ...]."""
    rounds = int(seconds / 0.02)
    script = (f"i=0; while [ $i -lt {rounds} ]; do "
              f"read s < {SIM.format(0)}; read a < {SIM.format(1)}; read u < {SIM.format(2)}; echo \"L $s$a$u\"; "
              f"usleep 20000; i=$((i+1)); done")
    rc, output = agent.run(script, timeout=seconds * 10 + 30)
    check(rc == 0, f"reading gpio-sim values failed: {output.strip()}")
    samples = [tuple(int(c) for c in m) for m in re.findall(r"^L ([01]{3})$", output, re.M)]
    check(len(samples) >= rounds // 2, f"too few LED samples ({len(samples)} of {rounds})")
    return samples


def summarize(samples):
    names = ("status", "alert", "uplink")
    return ", ".join(f"{n} on {sum(s[i] for s in samples)}/{len(samples)}" for i, n in enumerate(names))


class BoardVM:
    def __init__(self, work, receiver_port):
        self.work = work
        self.serial = os.path.join(work, "serial.log")
        image = os.path.join(work, "data.img")
        subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "pit-data", image, "32M"], check=True)
        self.smb_port, self.netbios_port = free_port(), free_port()
        forward = (f"guestfwd=tcp:{GUEST_RECEIVER}-cmd:socat - TCP:127.0.0.1:{receiver_port},"
                   f"hostfwd=tcp:127.0.0.1:{self.smb_port}-{GUEST_ADDRESS}:445,"
                   f"hostfwd=tcp:127.0.0.1:{self.netbios_port}-{GUEST_ADDRESS}:139")
        command = [
            "qemu-system-x86_64", "-machine", "pc", "-m", "1024", "-smp", "1", "-nodefaults", "-no-user-config",
            "-display", "none",
            "-kernel", os.path.join(IMAGE, "vmlinuz"), "-initrd", os.path.join(IMAGE, "initrd.gz"),
            "-append", "console=ttyS0 loglevel=4 net.ifnames=0 panic=-1",
            "-chardev", f"file,id=ser,path={self.serial}", "-serial", "chardev:ser",
            "-device", "virtio-serial-pci",
            "-chardev", f"socket,id=con,path={work}/console.sock,server=on,wait=off", "-device", "virtconsole,chardev=con",
            "-chardev", f"socket,id=agent,path={work}/agent.sock,server=on,wait=off", "-device", "virtconsole,chardev=agent",
            "-netdev", f"user,id=n0,{forward}", "-device", "virtio-net-pci,netdev=n0,romfile=",
            "-drive", f"file={image},format=raw,if=virtio",
            "-device", "i6300esb", "-action", "watchdog=reset",
            "-qmp", f"unix:{work}/qmp.sock,server=on,wait=off",
        ]
        self.started = time.time()
        self.qemu = subprocess.Popen(command, stdout=open(os.path.join(work, "qemu.log"), "w"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.qmp = QMP(f"{work}/qmp.sock")
        self.console = Console(f"{work}/console.sock", "console")
        self.agent = Agent(f"{work}/agent.sock", "agent")

    def serial_text(self):
        try:
            with open(self.serial, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def boots(self):
        return self.serial_text().count("pit-vm: stage2")

    def bootstatus(self, boot):
        values = re.findall(r"pit-vm: watchdog bootstatus (\S+)", self.serial_text())
        return values[boot - 1] if len(values) >= boot else None

    def wait_booted(self, boot):
        """Waits for boot number `boot`: the agent is up and pit answers status; returns the status JSON."""
        wait_until(lambda: self.qemu.poll() is None and self.boots() >= boot and self.agent.ready_count() >= boot,
                   BOOT_TIMEOUT_S, f"boot {boot} (the agent on hvc1)")
        check(self.boots() == boot, f"{self.boots()} boots, expected {boot}")

        def pit_answers():
            try:
                answer, _ = self.console.ask_json("status", timeout=5)
                return answer
            except CheckFailed:
                return None
        return wait_until(pit_answers, 60, f"pit's console after boot {boot}")

    def stop(self):
        self.qmp.quit()
        try:
            self.qemu.wait(10)
        except subprocess.TimeoutExpired:
            self.qemu.kill()
            self.qemu.wait()


def procd_handover_facts(serial, run):
    """{key: value} of one procd hand-over run of the first boot's serial log (image/vm/init's lines)."""
    first_boot = serial.split("pit-vm: stage2")[1] if "pit-vm: stage2" in serial else ""
    prefix = f"pit-vm: [procd {run}] procd-handover "
    return dict(line[len(prefix):].strip().split(" ", 1) for line in first_boot.splitlines()
                if line.startswith(prefix) and " " in line[len(prefix):].strip())


def check_procd_handover(vm):
    serial = vm.serial_text()
    runs = {run: procd_handover_facts(serial, run) for run in
            ("ca8c302 stop", "2c1834a stop", "ca8c302 magicclose-stop", "2c1834a magicclose-stop --stay")}
    for run, facts in runs.items():
        log(f"procd {run}: " + "; ".join(f"{k} {v}" for k, v in facts.items()))
    for run, facts in runs.items():
        check(facts.get("boot") == "procd-feeds" and '"status":"running"' in facts.get("before", ""),
              f"procd {run}: procd did not hold and feed the watchdog from boot: {facts}")
        check(facts.get("state-before") == "active", f"procd {run}: the device was not armed under procd: {facts}")
    # The control: procd before 254810d told only "stop" keeps the device open, unfed: Pit's open gets EBUSY.
    old = runs["ca8c302 stop"]
    check('"status":"stopped"' in old.get("reply", "") and old.get("procd-holds") == "yes"
          and old.get("state-after") == "active" and old.get("pit-open") == "EBUSY",
          f'procd ca8c302 with "stop" alone: expected "stopped", procd holding the armed device, EBUSY: {old}')
    check('"status":"offline"' in old.get("release", "") and old.get("procd-holds-after-release") == "no"
          and old.get("pit-open-after-release") == "ok-fed-disarmed",
          f"procd ca8c302: magicclose + stop afterwards did not free the device: {old}")
    # procd's current code closes on "stop" alone, without the 'V': the device is free but keeps counting.
    new = runs["2c1834a stop"]
    check('"status":"offline"' in new.get("reply", "") and new.get("procd-holds") == "no"
          and new.get("state-after") == "active" and new.get("pit-open") == "ok-fed-disarmed",
          f'procd 2c1834a with "stop" alone: expected "offline", the device closed but armed, Pit\'s open ok: {new}')
    # The shipped message: both versions write 'V' and close; the device is free and disarmed until Pit opens it.
    for run in ("ca8c302 magicclose-stop", "2c1834a magicclose-stop --stay"):
        facts = runs[run]
        check('"status":"offline"' in facts.get("reply", "") and '"magicclose":true' in facts.get("reply", "")
              and facts.get("procd-holds") == "no" and facts.get("state-after") == "inactive"
              and facts.get("pit-open") == "ok-fed-disarmed",
              f"procd {run} with magicclose + stop: expected 'V' and close (inactive), Pit's open ok: {facts}")
    check(runs["2c1834a magicclose-stop --stay"].get("stay") == "procd-loop", "the last procd did not stay")
    # Then the real Pit (started by inittab after the hand-over) owns the device while that procd lives on.
    rc, output = vm.agent.run(
        "p=$(cat /run/procd-handover.pid); echo \"procd $(kill -0 $p && echo alive) "
        "$(ls -l /proc/$p/fd | grep -c /dev/watchdog)\"; "
        "for q in $(pidof pit); do echo \"pit $q $(ls -l /proc/$q/fd 2>/dev/null | grep -o '/dev/watchdog[0-9]*')\"; done; "
        "echo \"state $(cat /sys/class/watchdog/watchdog0/state)\"")
    procd = re.search(r"procd (alive) (\d+)", output)
    owner = re.search(r"pit \d+ (/dev/watchdog\d*)", output)
    state = re.search(r"state (\S+)", output)
    check(procd and procd.group(2) == "0" and owner and state and state.group(1) == "active",
          f"after the hand-over: procd alive without the device, pit holding it, device active: {output.strip()}")
    log("PASS procd hand-over (procd's watchdog.c on the i6300esb): ca8c302 + \"stop\" -> procd keeps the fd, "
        "Pit's open EBUSY (control); 2c1834a + \"stop\" -> closed without 'V', still armed, open ok; magicclose + "
        f"stop (both) -> 'V', inactive, open ok and fed; then pit holds {owner.group(1)} while that procd lives on")


def jail_state(status, name):
    for jail in status.get("data", {}).get("jails", []):
        if jail.get("name") == name:
            return jail.get("state")
    return None


def main():
    for path in ("vmlinuz", "initrd.gz"):
        check(os.path.exists(os.path.join(IMAGE, path)), f"{IMAGE}/{path} missing: run image/build-test-image")
    work = tempfile.mkdtemp(prefix="pit-board-vm.")
    receiver = Receiver()
    vm = BoardVM(work, receiver.port)
    timings = []
    ok = False
    try:
        # 1. Boot: the agent answers, pit answers on its console, the jail runs, a cold boot's bootstatus is 0.
        status = vm.wait_booted(1)
        boot_s = time.time() - vm.started
        wait_until(lambda: jail_state(vm.console.ask_json("status")[0], "decoy-web") == "running", 60,
                   "decoy-web running")
        check(vm.bootstatus(1) == "0", f"cold boot: bootstatus {vm.bootstatus(1)}, expected 0")
        check(status["data"].get("safe_mode") is False, f"safe mode on a cold boot: {status}")
        log(f"PASS boot: QEMU start to pit's console answering in {boot_s:.1f} s (TCG); bootstatus 0; decoy-web running")
        timings.append(("boot to console", boot_s))

        # 1b. OpenWrt's watchdog hand-over against procd's own watchdog.c (Tests/Fixtures/procd), run by image/vm/init
        #     before Pit starts: a procd holding the i6300esb from boot gets the init script's ubus message.
        check_procd_handover(vm)

        # 1b. Samba accepting: the three jails running (each ready once it accepts on the persona's address), the
        #     persona on the NIC.
        wait_until(lambda: all(jail_state(vm.console.ask_json("status")[0], name) == "running" for name in SAMBA_JAILS),
                   120, "the Samba jails running")
        samba_s = time.time() - vm.started
        rc, output = vm.agent.run("hostname; ip -4 addr show eth0; ip link show eth0")
        check(rc == 0 and f"inet {GUEST_ADDRESS}/24" in output and "nas-fin-02" in output and "00:11:32:" in output,
              f"the persona on eth0: {output.strip()}")
        mac = re.search(r"link/ether (\S+)", output)
        log(f"PASS Samba accepting {samba_s:.1f} s after QEMU start (dcerpcd, smbd, nmbd running); persona on eth0: "
            f"hostname nas-fin-02, {GUEST_ADDRESS}/24, MAC {mac.group(1) if mac else '?'}")
        timings.append(("boot to Samba accepting", samba_s))

        # 2. LEDs: pattern "ok" (status heartbeat, alert off, uplink on) read on the gpio-sim lines in the guest.
        wait_until(lambda: vm.console.ask_json("leds")[0]["data"]["pattern"] == "ok", 60, 'the LED pattern "ok"')
        samples = sample_leds(vm.agent, 3)
        status_on = sum(s[0] for s in samples)
        check(all(s[1] == 0 for s in samples), f"alert LED not off: {summarize(samples)}")
        check(all(s[2] == 1 for s in samples), f"uplink LED not on: {summarize(samples)}")
        # heartbeat: two 70 ms flashes per 1.26 s, so the line is on now and then but mostly off.
        check(0 < status_on < len(samples) / 2, f"status LED is not a heartbeat: {summarize(samples)}")
        log(f"PASS LEDs read ok on gpio-sim: {summarize(samples)} over 3 s")

        # 3. The console answers commands (text and JSON).
        text, help_s = vm.console.ask("help")
        check("violations" in text and "watchdog" in text, f"help: {text!r}")
        text, status_s = vm.console.ask("status")
        check(re.search(r"jail decoy-web: running", text), f"status: {text!r}")
        watchdog, json_s = vm.console.ask_json("watchdog")
        check(watchdog.get("ok") is True, f"json watchdog: {watchdog}")
        log(f"PASS console answers: help {help_s * 1000:.0f} ms, status {status_s * 1000:.0f} ms, "
            f"json watchdog {json_s * 1000:.0f} ms ({json.dumps(watchdog['data'])})")
        timings.append(("console status answer", status_s))

        # 4. cgroup v2: the jail's limits from its spec (memory_max 16M, pids_max 16) on the pure v2 hierarchy.
        status, _ = vm.console.ask_json("status")
        pid = next((j.get("pid") for j in status["data"]["jails"] if j["name"] == "decoy-web"), None)
        check(pid, f"no pid for decoy-web: {status}")
        rc, output = vm.agent.run(f"d=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/{pid}/cgroup); "
                                  "echo \"$d $(cat $d/memory.max) $(cat $d/pids.max) $(wc -l < $d/cgroup.procs)\"")
        match = re.search(r"(/sys/fs/cgroup/\S+) (\d+) (\d+) (\d+)", output)
        check(match and match.group(2) == "16777216" and match.group(3) == "16" and int(match.group(4)) >= 1,
              f"jail cgroup v2 limits: {output.strip()}")
        log(f"PASS cgroup v2: {match.group(1)} memory.max {match.group(2)}, pids.max {match.group(3)}, "
            f"{match.group(4)} process(es)")

        # 4b. The OOM killer's last choice is the process that feeds the watchdog (-1000, set by Pit itself under
        # busybox init), never its jail (0). The jail's parent is the supervisor.
        rc, output = vm.agent.run(f"p=$(sed -n 's/^PPid:[[:space:]]*//p' /proc/{pid}/status); "
                                  f"echo \"oom $(cat /proc/$p/oom_score_adj) $(cat /proc/{pid}/oom_score_adj)\"")
        match = re.search(r"oom (-?\d+) (-?\d+)", output)
        check(match and match.group(1) == "-1000" and match.group(2) == "0", f"oom_score_adj supervisor/jail: {output.strip()}")
        # The uplink agent (network-facing) gives the inherited protection back.
        rc, output = vm.agent.run("for p in $(pidof pit); do echo \"proc $(tr '\\0' ' ' < /proc/$p/cmdline | cut -d' ' -f2) $(cat /proc/$p/oom_score_adj)\"; done")
        agent_adj = re.search(r"proc uplink-agent (-?\d+)", output)
        check(agent_adj and agent_adj.group(1) == "0", f"oom_score_adj of the uplink agent: {output.strip()}")
        log("PASS oom_score_adj: supervisor -1000, jail 0, uplink agent 0")

        # 4c. The image carries Pit's man pages and completions (image/build-test-image makes them with this pit).
        # Section 5: the four file formats (image/man), each with its [watchdog]/[[routes]]... tables.
        rc, output = vm.agent.run("echo \"docs $(ls /usr/share/man/man1 | grep -c '^pit.*[.]1$') "
                                  "$(grep -c chroot /usr/share/man/man1/pit-run.1) "
                                  "$(grep -c _pit_run /usr/share/bash-completion/completions/pit) $(/usr/sbin/pit --version) "
                                  "$(ls /usr/share/man/man5 | grep -c '^pit-.*[.]toml[.]5$') "
                                  "$(cat /usr/share/man/man5/pit-*.toml.5 | grep -c '^[.]SS ')\"")
        match = re.search(r"docs (\d+) (\d+) (\d+) (\S+) (\d+) (\d+)", output)
        check(match and int(match.group(1)) >= 10 and int(match.group(2)) >= 1 and int(match.group(3)) >= 1
              and int(match.group(5)) == 4 and int(match.group(6)) >= 15,
              f"man pages and completions in the image: {output.strip()}")
        log(f"PASS man pages ({match.group(1)} in section 1, {match.group(5)} in section 5) and bash completions "
            f"in the image; pit --version {match.group(4)}")

        # 4d. The decoy from the host's side (QEMU's forward to the guest's 445): the share listing through
        #     samba-dcerpcd's srvsvc; reading a decoy file raises exactly one smb_access at the receiver.
        sent = time.time()
        rc, output = smbclient(["-L", "//127.0.0.1", "-N"], vm.smb_port)
        list_s = time.time() - sent
        check(rc == 0 and re.search(r"^\s+finance\s+Disk\s+Finance department", output, re.M)
              and re.search(r"^\s+scans\s+Disk", output, re.M), f"smbclient -L: rc {rc}: {output}")
        log(f"PASS share listing from the host in {list_s:.2f} s: finance, scans")
        timings.append(("smbclient -L", list_s))
        share, name = DECOY_FILE
        sent = time.time()
        rc, output = smbclient([f"//127.0.0.1/{share}", "-N", "-c", f"get {name} /dev/stdout"], vm.smb_port)
        check(rc == 0, f"reading {share}/{name}: rc {rc}: {output}")
        arrived, event = wait_until(lambda: receiver.find("smb_access", after=sent - 1, share=share, file=name), 30,
                                    "smb_access at the receiver")
        time.sleep(3)      # a second alert for the same read would have arrived by now
        accesses = [e for t, e in receiver.events if t >= sent - 1 and e.get("kind") == "smb_access"]
        check(len(accesses) == 1, f"{len(accesses)} smb_access events for one read: {accesses}")
        log(f"PASS reading {share}/{name} from the host raised exactly one smb_access, at the receiver "
            f"{arrived - sent:.2f} s after the read began (client {event.get('client')}, operation {event.get('operation')})")
        timings.append(("decoy read to smb_access at receiver", arrived - sent))
        sent = time.time()
        smbclient(["-L", "//127.0.0.1", "-U", "administrator%Winter2026!", "-W", "ACME"], vm.smb_port)
        arrived, event = wait_until(lambda: receiver.find("smb_logon", after=sent - 1, user="administrator"), 30,
                                    "smb_logon for administrator at the receiver")
        log(f"PASS logon attempt raised smb_logon at the receiver {arrived - sent:.2f} s after it began "
            f"(user {event.get('user')}, domain {event.get('domain')}, status {event.get('status')}, guest {event.get('guest')})")
        timings.append(("logon attempt to smb_logon at receiver", arrived - sent))

        # 5. A violation in the jail (the CGI calls unshare(2)) reaches the host receiver.
        sent = time.time()
        vm.agent.run("wget -q -O /dev/null http://127.0.0.1:8080/cgi-bin/exploit; true")
        arrived, event = wait_until(lambda: receiver.find("violation", after=sent - 1, syscall="unshare"), 30,
                                    "the violation at the receiver")
        check(event.get("jail") == "decoy-web" and event.get("nr") == 272 and event.get("arch") == "x86_64",
              f"violation event: {event}")
        log(f"PASS violation reached the receiver {arrived - sent:.2f} s after the request: "
            f"{event['syscall']} (nr {event['nr']}) by {event.get('comm')} in {event['jail']}, action {event.get('action')}")
        timings.append(("violation to receiver", arrived - sent))
        leds, _ = vm.console.ask_json("leds")
        samples = sample_leds(vm.agent, 1.5)
        check(leds["data"]["pattern"] == "violation" and 0 < sum(s[1] for s in samples) < len(samples),
              f"after the violation: pattern {leds['data']['pattern']}, {summarize(samples)}")
        log(f"PASS LEDs read violation: alert blinking ({summarize(samples)})")

        # 6. Watchdog: SIGSTOP pit; the i6300esb must reset the VM within timeout + 1 s; after the reboot the
        #    watchdog_reset event reaches the receiver. Repeated until safe mode.
        for bite in range(1, SAFE_MODE_AFTER + 1):
            boot = bite + 1
            stopped = time.time()
            rc, output = vm.agent.run("kill -STOP $(pidof pit) && echo stopped $(pidof pit)")
            check(rc == 0 and "stopped" in output, f"kill -STOP: {output.strip()}")
            reset = wait_until(lambda: vm.qmp.find("WATCHDOG", stopped), WATCHDOG_TIMEOUT_S + 15, "the watchdog's bite")
            latency = reset[0] - stopped
            check(reset[1].get("action") == "reset", f"watchdog action: {reset[1]}")
            check(latency <= WATCHDOG_TIMEOUT_S + 1,
                  f"watchdog reset {latency:.2f} s after SIGSTOP, limit {WATCHDOG_TIMEOUT_S + 1} s")
            # Pit feeds every timeout/2: the last feed was at most that long before SIGSTOP, so an earlier bite
            # means the timeout or the feeding is not what the config says.
            check(latency >= WATCHDOG_TIMEOUT_S / 2 - 0.5,
                  f"watchdog reset only {latency:.2f} s after SIGSTOP: expected at least {WATCHDOG_TIMEOUT_S / 2 - 0.5:g} s")
            log(f"PASS bite {bite}: SIGSTOP to watchdog reset {latency:.2f} s (timeout {WATCHDOG_TIMEOUT_S} s, "
                f"feeds every {WATCHDOG_TIMEOUT_S / 2:g} s)")
            timings.append((f"SIGSTOP to reset #{bite}", latency))
            status = vm.wait_booted(boot)
            reboot_s = time.time() - reset[0]
            check(vm.bootstatus(boot) == "32", f"boot {boot}: bootstatus {vm.bootstatus(boot)}, expected 32 (WDIOF_CARDRESET)")
            check(status["data"]["watchdog"].get("boot_status") == 32, f"pit's watchdog boot_status: {status['data']['watchdog']}")
            arrived, event = wait_until(lambda: receiver.find("watchdog_reset", after=reset[0]), 60,
                                        f"watchdog_reset #{bite} at the receiver")
            check(receiver.count("watchdog_reset") == bite, f"{receiver.count('watchdog_reset')} watchdog_reset events, expected {bite}")
            log(f"PASS reboot {bite}: pit up {reboot_s:.1f} s after the reset, bootstatus 32, watchdog_reset at the "
                f"receiver {arrived - reset[0]:.1f} s after the reset ({event.get('message', '')})")
            timings.append((f"reset #{bite} to watchdog_reset at receiver", arrived - reset[0]))
            if bite < SAFE_MODE_AFTER:
                check(status["data"].get("safe_mode") is False, f"safe mode after {bite} reset(s), expected after {SAFE_MODE_AFTER}")
                wait_until(lambda: jail_state(vm.console.ask_json("status")[0], "decoy-web") == "running", 60,
                           f"decoy-web running after reset {bite}")

        # 7. Safe mode after SAFE_MODE_AFTER consecutive resets: no jails, the event sent, LEDs safe_mode.
        check(status["data"].get("safe_mode") is True, f"not in safe mode after {SAFE_MODE_AFTER} resets: {status}")
        check(jail_state(status, "decoy-web") != "running", f"a jail runs in safe mode: {status}")
        wait_until(lambda: receiver.find("safe_mode"), 30, "the safe_mode event at the receiver")
        wait_until(lambda: vm.console.ask_json("leds")[0]["data"]["pattern"] == "safe_mode", 30, 'the LED pattern "safe_mode"')
        samples = sample_leds(vm.agent, 2)
        check(all(s[1] == 1 for s in samples) and all(s[2] == 1 for s in samples) and 0 < sum(s[0] for s in samples) < len(samples),
              f"safe_mode LEDs: {summarize(samples)}")
        log(f"PASS safe mode after {SAFE_MODE_AFTER} watchdog resets: jails stopped, safe_mode event received, "
            f"LEDs {summarize(samples)}")
        vm.console.ask("pin " + CONSOLE_PIN)
        text, _ = vm.console.ask("safe-mode clear")
        wait_until(lambda: jail_state(vm.console.ask_json("status")[0], "decoy-web") == "running", 60,
                   "decoy-web running after safe-mode clear")
        log("PASS safe-mode clear on the console: decoy-web running again")

        # 8. smbd's jail stopped by a signal: the process is there and its socket still completes handshakes, but
        #    nothing is answered. smbd is required: health fails and, past the grace, the watchdog resets the VM.
        wait_until(lambda: all(jail_state(vm.console.ask_json("status")[0], name) == "running" for name in SAMBA_JAILS),
                   120, "the Samba jails running after safe-mode clear")
        # The grace runs from the first failing sample: the restarted jails' start must be over (health ok again).
        wait_until(lambda: vm.console.ask_json("watchdog")[0]["data"]["health"] == "healthy", 30, "health ok after safe-mode clear")
        status, _ = vm.console.ask_json("status")
        smbd = next((j.get("pid") for j in status["data"]["jails"] if j["name"] == "smbd"), None)
        check(smbd, f"no pid for smbd: {status}")
        resets_before = receiver.count("watchdog_reset")
        stopped = time.time()
        rc, output = vm.agent.run(f"kill -STOP {smbd} && echo stopped")
        check(rc == 0 and "stopped" in output, f"kill -STOP smbd: {output.strip()}")
        wait_until(lambda: "smbd (stopped by a signal)" in " ".join(vm.console.ask_json("watchdog")[0]["data"].get("problems", [])),
                   15, "health to name the stopped smbd")
        unhealthy_s = time.time() - stopped
        reset = wait_until(lambda: vm.qmp.find("WATCHDOG", stopped), HEALTH_GRACE_S + WATCHDOG_TIMEOUT_S + 20,
                           "the watchdog's bite after smbd stopped")
        latency = reset[0] - stopped
        check(latency <= HEALTH_GRACE_S + WATCHDOG_TIMEOUT_S + 3,
              f"reset {latency:.1f} s after smbd stopped: limit grace {HEALTH_GRACE_S} s + timeout {WATCHDOG_TIMEOUT_S} s")
        check(latency >= HEALTH_GRACE_S - 1, f"reset only {latency:.1f} s after smbd stopped: the grace is {HEALTH_GRACE_S} s")
        log(f"PASS kill -STOP of smbd's jail: health names it after {unhealthy_s:.1f} s, watchdog reset {latency:.1f} s "
            f"after the stop (grace {HEALTH_GRACE_S} s + timeout {WATCHDOG_TIMEOUT_S} s)")
        timings.append(("smbd SIGSTOP to watchdog reset", latency))
        vm.wait_booted(SAFE_MODE_AFTER + 2)
        arrived, event = wait_until(lambda: receiver.find("watchdog_reset", after=reset[0]), 60,
                                    "watchdog_reset after the smbd bite at the receiver")
        check(receiver.count("watchdog_reset") == resets_before + 1, "watchdog_reset count after the smbd bite")
        wait_until(lambda: jail_state(vm.console.ask_json("status")[0], "smbd") == "running", 120, "smbd running after the reset")
        log(f"PASS after the reset: watchdog_reset at the receiver {arrived - reset[0]:.1f} s after it, smbd running again")

        # 9. Bad input on the device: a persona that does not load (a typo in `imitate`) and Pit restarted (init
        #    respawns it). The box stays reachable for the fix: console answering, the Samba jails misconfigured,
        #    LEDs degraded, the error at the receiver, and no watchdog reset past grace + timeout. Then the fix and
        #    a SIGHUP bring Samba back.
        supervisor = ("for p in $(pidof pit); do tr '\\0' ' ' < /proc/$p/cmdline | grep -q '^/usr/sbin/pit supervise' "
                      "&& echo $p; done")
        rc, output = vm.agent.run("cp /etc/pit/persona.toml /tmp/persona.good && "
                                  "sed -i 's/^imitate = .*/imitate = \"synology-dsm\"/' /etc/pit/persona.toml && "
                                  f"kill $({supervisor}) && echo broken")
        check(rc == 0 and "broken" in output, f"breaking the persona: {output.strip()}")
        broken = time.time()
        wait_until(lambda: receiver.find("config_error", after=broken, jail="smbd"), 60, "smbd's config_error at the receiver")
        errors = [e.get("message", "") for t, e in receiver.events if t >= broken and e.get("kind") == "config_error"]
        check(any("persona.toml:" in m and "did you mean 'synology-dsm7'" in m for m in errors), f"config_error messages: {errors}")
        status, _ = vm.console.ask_json("status")
        states = {name: jail_state(status, name) for name in SAMBA_JAILS + ("decoy-web",)}
        check(all(states[name] == "misconfigured" for name in SAMBA_JAILS), f"jail states with a broken persona: {states}")
        wait_until(lambda: jail_state(vm.console.ask_json("status")[0], "decoy-web") == "running", 60, "decoy-web running")
        wait_until(lambda: vm.console.ask_json("leds")[0]["data"]["pattern"] == "degraded", 30, 'the LED pattern "degraded"')
        samples = sample_leds(vm.agent, 2.5)
        check(all(s[1] == 0 for s in samples) and all(s[2] == 1 for s in samples)
              and len(samples) / 5 < sum(s[0] for s in samples) < len(samples) * 4 / 5, f"degraded LEDs: {summarize(samples)}")
        time.sleep(max(0, broken + HEALTH_GRACE_S + WATCHDOG_TIMEOUT_S + 3 - time.time()))
        check(vm.qmp.find("WATCHDOG", broken) is None, "the watchdog bit with a broken persona")
        watchdog, _ = vm.console.ask_json("watchdog")
        check(watchdog["data"]["health"] == "healthy", f"health with a broken persona: {watchdog['data']}")
        log(f"PASS broken persona at start: console answering, Samba jails misconfigured, LEDs degraded "
            f"({summarize(samples)}), config_error at the receiver, no reset in {time.time() - broken:.0f} s "
            f"(grace {HEALTH_GRACE_S} s + timeout {WATCHDOG_TIMEOUT_S} s)")
        rc, output = vm.agent.run(f"cp /tmp/persona.good /etc/pit/persona.toml && kill -HUP $({supervisor}) && echo fixed")
        check(rc == 0 and "fixed" in output, f"fixing the persona: {output.strip()}")
        wait_until(lambda: all(jail_state(vm.console.ask_json("status")[0], name) == "running" for name in SAMBA_JAILS),
                   120, "the Samba jails running after the fix and SIGHUP")
        rc, output = smbclient(["-L", "//127.0.0.1", "-N"], vm.smb_port)
        check(rc == 0 and "finance" in output, f"smbclient -L after the fix: {output}")
        log("PASS persona fixed and SIGHUP: the Samba jails run again and list the shares")
        ok = True
    except CheckFailed as failure:
        log(f"FAIL {failure}")
    finally:
        vm.stop()
        total = time.time() - started
        print("\nboard VM timings (measured):")
        for name, seconds in timings:
            print(f"  {name:45s} {seconds:7.2f} s")
        print(f"  {'suite total':45s} {total:7.2f} s")
        if ok:
            shutil.rmtree(work, ignore_errors=True)
            print("board VM suite: all checks passed")
        else:
            print(f"\nboard VM suite FAILED; work directory kept: {work}")
            print("--- serial log (last 60 lines) ---")
            print("\n".join(vm.serial_text().splitlines()[-60:]))
            print("--- console (last 2000 characters) ---")
            print(vm.console.since(0)[-2000:])
            print("--- receiver events ---")
            for arrived, event in receiver.events:
                print(f"  {arrived - started:6.1f}s {event.get('kind')} {event.get('message', '')}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

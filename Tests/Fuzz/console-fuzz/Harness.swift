import PitConsole

// libFuzzer harness for the console's input side: the line discipline, the command parser and PIN
// guard behind it, and the output buffer. Every input is a fresh console session (no state carried
// between inputs, so a crash replays from its input file alone). Invariants are preconditions, so a
// violation is a crash libFuzzer records as a finding.
//
// Build and run (release, instrumented, separate scratch path so the normal build is untouched):
//   swift build -c release --product console-fuzz --scratch-path .build-fuzz \
//       -Xswiftc -sanitize=fuzzer,address -Xswiftc -DLIBFUZZER   (entry point: Entry.swift)
//   .build-fuzz/release/console-fuzz -max_total_time=300 -max_len=4096 fuzz-corpus/
// Without -DLIBFUZZER the same target builds as a replay tool: `console-fuzz FILE...` runs each file once.

private func makeContext() -> ConsoleContext {
    var c = ConsoleContext(nowMs: 0)
    c.status = { ConsoleReport(text: "health: ok", json: "{\"health\":\n\"ok\"}") }
    c.jails = { [ConsoleJail(name: "smbd", state: "running", pid: 7), ConsoleJail(name: "sshd", state: "stopped")] }
    c.jail = { name in name == "smbd" || name == "sshd" ? ConsoleJail(name: name, state: "running") : nil }
    c.violations = { n in (0..<min(n, 3)).map { ConsoleEvent(time: "t", kind: "violation", detail: "\u{1B}[2J #\($0)") } }
    c.events = { n in (0..<min(n, 3)).map { ConsoleEvent(time: "t", kind: "exit", jail: "smbd", detail: "x\n\($0)") } }
    c.policy = { name in name == "smbd" ? [ConsoleField("allowed", 10)] : nil }
    c.restart = { ConsoleActionResult(ok: true, message: "restarting \($0)") }
    c.reboot = { ConsoleActionResult(ok: true, message: "rebooting") }
    return c
}

public func fuzzOneInput(_ bytes: UnsafeBufferPointer<UInt8>) {
    guard !bytes.isEmpty else { return }
    // The first byte picks the per-call request cap and the feed chunk size, so both paths get explored.
    let control = bytes[0]
    let cap = Int(control & 0x0F) + 1
    let chunk = Int(control >> 4) * 16 + 1
    let input = bytes.dropFirst()

    var editor = LineEditor(maxLineBytes: 256, echo: control & 1 == 0, prompt: "pit> ")
    var commands = ConsoleCommands(pin: "8642", policy: PinGuard.Policy(minIntervalMs: 2000, maxFailures: 3))
    var output = OutputBuffer(capacity: 1024)
    var ctx = makeContext()
    var offset = input.startIndex
    while offset < input.endIndex {
        let end = min(input.endIndex, offset + chunk)
        let out = editor.feed(UnsafeBufferPointer(rebasing: input[offset..<end]), maxRequests: cap)
        precondition(out.consumed > 0 || end == offset, "feed made no progress")
        precondition(out.requests.count <= cap, "per-call cap exceeded")
        precondition(editor.pendingLineBytes <= 256, "line buffer beyond its bound")
        precondition(!out.echo.contains(0x1B), "escape byte echoed")
        offset += out.consumed
        output.append(out.echo)
        for request in out.requests {
            if case let .line(text) = request {
                precondition(!text.isEmpty && text.utf8.count <= 256, "bad line length")
                precondition(text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }, "non-printable line")
            }
            ctx.nowMs += 1_000
            let answer = commands.execute(request, context: ctx)
            precondition(!answer.isEmpty, "empty answer")
            if answer.hasPrefix("{") { precondition(!answer.contains("\n") && answer.hasSuffix("}"), "JSON not one line") }
            precondition(answer.utf8.count < 8192, "answer unbounded")
            output.append(Array(answer.utf8))
            precondition(output.count <= output.capacity, "output buffer beyond capacity")
        }
        if output.count > 512 { output.consume(output.count / 2) }   // a slow reader takes some
    }
    fuzzCommandLines(input)
}

/// The command parser on its own, past the line editor: each input line (lossy UTF-8, any bytes, any length)
/// goes straight to `execute`, so words the editor would never pass (control bytes, non-ASCII, 64 KB lines)
/// reach the tokenizer, the PIN guard and the answers. A control byte's parity picks whether the PIN is unlocked
/// first, so the privileged commands run past the guard too.
func fuzzCommandLines(_ input: Slice<UnsafeBufferPointer<UInt8>>) {
    var commands = ConsoleCommands(pin: "8642", policy: PinGuard.Policy(minIntervalMs: 0, maxFailures: 1_000_000))
    var ctx = makeContext()
    if input.first.map({ $0 & 1 == 1 }) ?? false { _ = commands.execute(.line("pin 8642"), context: ctx) }
    for line in input.split(separator: 0x0A, omittingEmptySubsequences: false) {
        ctx.nowMs += 1
        let answer = commands.execute(.line(String(decoding: line, as: UTF8.self)), context: ctx)
        precondition(!answer.isEmpty, "empty answer")
        if answer.hasPrefix("{") { precondition(!answer.contains("\n") && answer.hasSuffix("}"), "JSON not one line") }
    }
}

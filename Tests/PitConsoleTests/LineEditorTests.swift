import XCTest
@testable import PitConsole

final class LineEditorTests: XCTestCase {
    private func feed(_ text: String, editor: inout LineEditor) -> LineEditor.Output {
        editor.feed(Array(text.utf8))
    }

    func testCRLFAndCRLFEachEndOneLine() {
        var editor = LineEditor(echo: false)
        let out = feed("a\rb\nc\r\nd\r\r\ne\n\n", editor: &editor)
        // "d\r\r\n": the first CR ends "d", the second CR an empty line, its LF is swallowed.
        XCTAssertEqual(out.requests, [.line("a"), .line("b"), .line("c"), .line("d"), .line("e")])
        XCTAssertEqual(out.consumed, 14)
    }

    func testCRLFSplitAcrossFeedsCountsOnce() {
        var editor = LineEditor(echo: false)
        XCTAssertEqual(feed("status\r", editor: &editor).requests, [.line("status")])
        XCTAssertEqual(feed("\njails\r", editor: &editor).requests, [.line("jails")])
    }

    func testBackspaceAndDeleteEraseWithEcho() {
        var editor = LineEditor(echo: true)
        let out = feed("stx\u{8}a\u{7F}atus\r", editor: &editor)
        XCTAssertEqual(out.requests, [.line("status")])
        XCTAssertEqual(String(decoding: out.echo, as: UTF8.self), "stx\u{8} \u{8}a\u{8} \u{8}atus\r\n")
        // Backspace on an empty line echoes nothing and is harmless.
        XCTAssertEqual(feed("\u{8}\u{8}", editor: &editor).echo, [])
    }

    func testCtrlCAndCtrlUClearTheLine() {
        var editor = LineEditor(echo: true, prompt: "> ")
        var out = feed("reboot\u{3}status\r", editor: &editor)
        XCTAssertEqual(out.requests, [.line("status")])
        XCTAssertTrue(String(decoding: out.echo, as: UTF8.self).contains("^C\r\n> "))
        out = feed("rest\u{1}art\u{15}jails\r", editor: &editor)   // Ctrl-U also clears a bad line
        XCTAssertEqual(out.requests, [.line("jails")])
    }

    func testBinaryBytesRejectTheWholeLineOnce() {
        var editor = LineEditor(echo: true)
        let out = feed("sta\u{1B}[2Jtus\u{0}\u{FF}\r", editor: &editor)
        XCTAssertEqual(out.requests, [.rejected(.binaryInput)])
        XCTAssertFalse(out.echo.contains(0x1B), "escape bytes must never be echoed")
        XCTAssertEqual(feed("status\r", editor: &editor).requests, [.line("status")], "the next line is clean")
        var raw = LineEditor(echo: false)
        XCTAssertEqual(raw.feed([0xC3, 0xA9, 0x0D]).requests, [.rejected(.binaryInput)], "non-ASCII is refused")
    }

    func testOverlongLineRejectedWithoutGrowing() {
        var editor = LineEditor(maxLineBytes: 256, echo: true)
        let out = editor.feed([UInt8](repeating: 0x61, count: 10_000) + [0x0D])
        XCTAssertEqual(out.requests, [.rejected(.tooLong(limit: 256))])
        XCTAssertLessThanOrEqual(out.echo.count, 256 + 2, "echo stops at the limit")
        XCTAssertLessThanOrEqual(editor.bufferCapacity, 512)
        let exact = editor.feed([UInt8](repeating: 0x62, count: 256) + [0x0D])
        XCTAssertEqual(exact.requests, [.line(String(repeating: "b", count: 256))], "256 bytes is still allowed")
    }

    func testBurstIsCappedPerCallAndResumable() {
        var editor = LineEditor(echo: false)
        let burst = Array(String(repeating: "jails\r\n", count: 100).utf8)
        var requests: [ConsoleRequest] = []
        var offset = 0
        var calls = 0
        while offset < burst.count {
            let out = editor.feed(burst[offset...], maxRequests: 16)
            XCTAssertLessThanOrEqual(out.requests.count, 16)
            requests += out.requests
            offset += out.consumed
            calls += 1
        }
        XCTAssertEqual(requests.count, 100)
        XCTAssertEqual(calls, 7)
    }

    func testPinIsMaskedInEcho() {
        var editor = LineEditor(echo: true)
        var out = feed("restart smbd pin 1234\r", editor: &editor)
        XCTAssertEqual(String(decoding: out.echo, as: UTF8.self), "restart smbd pin ****\r\n")
        XCTAssertEqual(out.requests, [.line("restart smbd pin 1234")])
        out = feed("PIN  98\u{7F}7\r", editor: &editor)
        XCTAssertEqual(String(decoding: out.echo, as: UTF8.self), "PIN  **\u{8} \u{8}*\r\n")
        out = feed("spin 12\r", editor: &editor)   // only the word "pin" masks
        XCTAssertEqual(String(decoding: out.echo, as: UTF8.self), "spin 12\r\n")
    }

    func testEchoOffEchoesNothing() {
        var editor = LineEditor(echo: false, prompt: "> ")
        let out = feed("status\r\u{3}\r", editor: &editor)
        XCTAssertEqual(out.echo, [])
        XCTAssertEqual(out.requests, [.line("status")])
    }
}

import PitTestSupport
import Glibc
@testable import PitBoard
@testable import PitJail
@testable import PitPersona
@testable import PitSupervisor
import PitTOML
@testable import PitUplink
import XCTest

/// The section-5 pages (image/man/*.5) document every key each parser accepts, and nothing else. Convention of
/// the pages: a table's keys follow its `.SS "TITLE"` line, each as `.TP` then `.B key`. A key added to a parser
/// without a line in its page (or a page line for a key the parser refuses) fails here, naming the page, the
/// table and the key.
final class ManPageKeysTests: XCTestCase {
    private let root: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)   // Tests/PitSupervisorTests/ManPageKeysTests.swift
        return parts.joined(separator: "/")
    }()

    /// Page -> (`.SS` title -> the keys the code accepts in that table).
    private var expected: [String: [String: Set<String>]] {
        var uplink: [String: Set<String>] = ["[[uplink]]": UplinkConfig.commonKeys]
        for type in UplinkConfig.typeKeys.keys {
            uplink["[[uplink]] type = \(type)"] = UplinkConfig.keys(forType: type).subtracting(UplinkConfig.commonKeys)
        }
        return [
            "pit-device.toml.5": [
                "Top level": DeviceConfig.topLevelKeys,
                "[watchdog]": DeviceConfig.watchdogKeys,
                "[console]": DeviceConfig.consoleKeys,
                "[[jails]]": DeviceConfig.jailKeys,
            ].merging(uplink) { a, _ in a },
            "pit-jail.toml.5": [
                "Top level": JailSpecFile.keys,
                "[landlock]": JailSpecFile.landlockKeys,
                "[rlimits]": Set(RlimitNames.table.map(\.0)),
            ],
            "pit-persona.toml.5": [
                "Top level": Persona.topLevelKeys,
                "[[routes]]": Persona.routeKeys,
                "[[shares]]": Persona.shareKeys,
                "[dhcp]": Persona.dhcpKeys,
            ],
            "pit-board.toml.5": [
                "Top level": Board.topLevelKeys,
                "[watchdog]": Board.watchdogKeys,
                "[leds]": Board.ledsKeys,
                "[leds.INDICATOR]": Board.ledWiringKeys,
                "[leds.INDICATOR.gpio]": Board.gpioKeys,
                "[console]": Board.consoleKeys,
            ],
        ]
    }

    /// `.SS` title -> the keys documented under it (a `.B` line right after `.TP`), in page order.
    static func documentedKeys(_ page: String) -> [(title: String, keys: [String])] {
        var sections: [(title: String, keys: [String])] = []
        let lines = page.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (index, line) in lines.enumerated() {
            if line.hasPrefix(".SS ") {
                var title = String(line.dropFirst(4))
                if title.hasPrefix("\""), title.hasSuffix("\""), title.count >= 2 { title = String(title.dropFirst().dropLast()) }
                sections.append((title, []))
            } else if line == ".TP", index + 1 < lines.count, lines[index + 1].hasPrefix(".B "), !sections.isEmpty {
                var key = String(lines[index + 1].dropFirst(3))
                if key.hasPrefix("\""), key.hasSuffix("\""), key.count >= 2 { key = String(key.dropFirst().dropLast()) }
                sections[sections.count - 1].keys.append(key.replacingOccurrences(of: "\\-", with: "-"))
            }
        }
        return sections
    }

    func test_eachPageDocumentsExactlyTheKeysItsParserAccepts() throws {
        for (name, tables) in expected.sorted(by: { $0.key < $1.key }) {
            let path = root + "/image/man/" + name
            let page = try XCTUnwrap(readText(path), "\(path) is missing")
            let documented = Self.documentedKeys(page)
            for (title, accepted) in tables.sorted(by: { $0.key < $1.key }) {
                guard let section = documented.first(where: { $0.title == title }) else {
                    XCTFail("image/man/\(name): no section .SS \"\(title)\" (the code accepts \(accepted.sorted().joined(separator: ", ")) there)")
                    continue
                }
                for key in accepted.subtracting(section.keys).sorted() {
                    XCTFail("image/man/\(name): \(title): key '\(key)' is accepted by the code but not documented (add .TP / .B \(key))")
                }
                for key in Set(section.keys).subtracting(accepted).sorted() {
                    XCTFail("image/man/\(name): \(title): key '\(key)' is documented but the code refuses it")
                }
                for key in Set(section.keys) where section.keys.filter({ $0 == key }).count > 1 {
                    XCTFail("image/man/\(name): \(title): key '\(key)' is documented twice")
                }
            }
            // A section with keys the test does not know is a table nobody checks.
            for section in documented where !section.keys.isEmpty && tables[section.title] == nil && !["FILES"].contains(section.title) {
                XCTFail("image/man/\(name): section .SS \"\(section.title)\" lists keys but is not mapped to a parser's key set in ManPageKeysTests")
            }
        }
    }

    /// The parser that reads the pages is itself checked: a key dropped from a page or added to it is seen.
    func test_theKeyReaderSeesAMissingAndAnExtraKey() throws {
        let page = try XCTUnwrap(readText(root + "/image/man/pit-board.toml.5"))
        let keys = { (text: String) in Set(Self.documentedKeys(text).first { $0.title == "[console]" }?.keys ?? []) }
        XCTAssertEqual(keys(page), Board.consoleKeys)
        let dropped = page.replacingOccurrences(of: ".TP\n.B baud\n", with: "")
        XCTAssertNotEqual(dropped, page)
        XCTAssertEqual(keys(dropped), ["tty"])
        let added = page.replacingOccurrences(of: ".TP\n.B baud\n", with: ".TP\n.B parity\nNone.\n.TP\n.B baud\n")
        XCTAssertEqual(keys(added), ["tty", "baud", "parity"])
    }

    /// The same static sets are what the parsers enforce: a key outside them is an error at load.
    func test_theParsersRefuseAKeyOutsideTheDocumentedSets() throws {
        XCTAssertThrowsError(try Board.parse("name = \"b\"\n[console]\ntty = \"/dev/ttyS0\"\nbaud = 115200\nparity = \"none\"\n", file: "b.toml"))
        XCTAssertNoThrow(try Board.parse("name = \"b\"\n[console]\ntty = \"/dev/ttyS0\"\nbaud = 115200\n", file: "b.toml"))
        func uplink(_ extra: String) throws {
            let text = "type = \"unix\"\nname = \"u\"\npath = \"/run/u.sock\"\n" + extra
            _ = try UplinkConfig.parse([TOMLFields(try TOML.parse(text, file: "d.toml"), file: "d.toml")])
        }
        XCTAssertNoThrow(try uplink(""))
        XCTAssertThrowsError(try uplink("url = \"https://x\"\n"))
    }

    /// Every page renders without a warning from man (groff through man-db).
    func test_pagesRenderWithoutWarnings() throws {
        try XCTSkipUnless(fileExists("/usr/bin/man"), "needs man (package man-db)")
        for name in expected.keys.sorted() {
            let r = Process.run(["/bin/sh", "-c", "MANWIDTH=80 man --warnings -l \"$0\" 2>&1 >/dev/null", root + "/image/man/" + name])
            XCTAssertEqual(r.status, 0, name)
            XCTAssertEqual(r.stdout + r.stderr, "", "\(name): man --warnings says something")
            let text = Process.run(["/bin/sh", "-c", "MANWIDTH=80 man -l \"$0\" 2>/dev/null", root + "/image/man/" + name]).stdout
            XCTAssertTrue(text.contains("EXAMPLES"), "\(name) renders without an EXAMPLES section")
        }
    }
}

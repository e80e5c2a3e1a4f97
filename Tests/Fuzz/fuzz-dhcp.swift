// libFuzzer harness for the DHCPv4 client's input side (PitPersona): everything a hostile DHCP server or
// anyone on the LAN can put in front of it. Each input is tried as an IPv4/UDP datagram (DhcpFrame.decode, as
// the packet socket delivers it), as a DHCP message (DhcpPacket.parse, and the frame's payload too), and as a
// stored lease file (DhcpLease.rememberedAddress). A message that parses must encode and parse back to itself,
// and is then answered to a client (DhcpClient, windows-10 profile) with the client's own xid and MAC patched
// in, so it reaches OFFER, ACK, NAK handling in SELECTING, REQUESTING, RENEWING, REBINDING and the INIT-REBOOT
// of a held lease after the link comes back up. Thrown
// DhcpParseErrors and `.refused` actions are valid outcomes; a crash, a hang, a deadline in the past or a lease
// with an unusable address is a finding. Build/run: Tests/Fuzz/run.sh (see Tests/Fuzz/README.md).
import PitPersona

let mac: [UInt8] = [0x00, 0x11, 0x32, 0xAA, 0xBB, 0xCC]

func answer(_ message: DhcpPacket) {
    var client = DhcpClient(.init(profile: .windows10, mac: mac, hostname: "fs01"), seed: 42)
    var now: Int64 = 1_000
    func check(_ step: DhcpClient.Step) {
        if let deadline = step.deadline { precondition(deadline >= now, "deadline in the past") }
        for action in step.actions {
            if case .configure(let lease, _) = action {
                precondition(!lease.address.isZero && lease.address != .broadcast, "unusable leased address")
                precondition((0...32).contains(lease.prefixLength), "prefix length out of range")
                precondition(lease.renewMs <= lease.rebindMs && lease.rebindMs <= lease.expiresMs, "timers out of order")
            }
        }
    }
    var reply = message
    reply.chaddr = mac
    check(client.start(now: now, remembered: nil))
    for round in 0..<4 {
        reply.xid = client.transactionID
        now += 500
        check(client.received(reply, now: now))
        if client.state == .checking {
            now += 10
            check(client.checked(conflict: round == 3, now: now))
        }
        if let lease = client.lease {
            // Jump to T1, then T2, so the same message is tried as a renewal's and a rebinding's answer; in the
            // last round the link comes back up instead, so it answers an INIT-REBOOT of the held lease.
            if round == 2 {
                now += 10
                check(client.linkUp(now: now))
            } else {
                now = round == 1 ? lease.renewMs : lease.rebindMs
                check(client.timeout(now: now))
            }
        }
    }
    _ = client.stop(now: now + 1)
}

func tryMessage(_ bytes: [UInt8]) {
    guard let message = try? DhcpPacket.parse(bytes) else { return }
    let encoded = message.encoded()
    if encoded.count <= DhcpPacket.maxMessageBytes {
        guard let again = try? DhcpPacket.parse(encoded) else { fatalError("an encoded message does not parse") }
        precondition(again == message, "round trip changed the message")
    }
    _ = try? message.classlessRoutes()
    _ = message.serverMessage
    answer(message)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let datagram = try? DhcpFrame.decode(bytes) { tryMessage(datagram.payload) }
    tryMessage(bytes)
    _ = DhcpLease.rememberedAddress(in: bytes)
    return 0
}

// SwiftPM links executables with `--defsym main=<module>_main`; provide that symbol and hand
// control to libFuzzer's driver (LLVMFuzzerRunDriver is part of libclang_rt.fuzzer).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ cb: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("fuzz_dhcp_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v, fuzz)
}

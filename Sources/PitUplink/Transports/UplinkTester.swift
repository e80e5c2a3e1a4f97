import PitProcess
import Glibc

/// `pit uplink test`: one `uplink_test` event straight through each transport, not through the spool, so it
/// proves the path to the receiver without touching any cursor.
public enum UplinkTester {
    public struct Result: Sendable {
        public var name: String
        public var type: String
        public var error: UplinkError?
    }

    public static func run(_ config: UplinkAgentConfig) -> [Result] {
        signal(SIGPIPE, SIG_IGN)
        let device = localHostName()
        var event = PitEvent.uplinkTest(message: "pit uplink test", device: device)
        event.pitVersion = pitVersion
        return config.transports.map { transport in
            do throws(UplinkError) {
                var client = try TransportClient(transport, defaultDevice: device)
                let delivery = client.deliver([event])
                return Result(name: transport.name, type: transport.typeName, error: delivery.error)
            } catch {
                return Result(name: transport.name, type: transport.typeName, error: error)
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MTXMonCore

/// The simulator's JSON, field for field as MediaMTX writes it: v1.20 in the key order of the
/// captured replies, v1.12 with the fields its OpenAPI document lists.
enum Render {
    static func iso(_ ms: Int64) -> String {
        // A fixed-format RFC 3339 time with nanoseconds, as MediaMTX writes it.
        let days = ms / 86_400_000
        let rem = ms % 86_400_000
        let (y, m, d) = TimeArgument.civil(days: days)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let millis = rem % 1_000
        let frac = String(repeating: "0", count: 3 - String(millis).count) + String(millis)
        return "\(y)-\(two(m))-\(two(d))T\(two(rem / 3_600_000)):\(two(rem / 60_000 % 60)):\(two(rem / 1_000 % 60)).\(frac)000000Z"
    }

    /// `inbound` and `outbound`, when given, stand for the counters the rate would give.
    static func path(_ path: SimPath, generation: APIGeneration, nowMs: Int64, inbound scriptedIn: Int64? = nil,
                     outbound scriptedOut: Int64? = nil) -> JSON {
        let inbound = JSON.int(scriptedIn ?? path.inboundBytes(at: nowMs))
        let outbound = JSON.int(scriptedOut ?? path.outboundBytes(at: nowMs))
        let since = JSON.string(iso(path.publisher.counterStartMs))
        let source = JSON.object([("type", .string(path.publisher.proto.sourceType)), ("id", .string(path.publisher.id))])
        let readers = JSON.array(path.readers.map {
            .object([("type", .string($0.proto.readerType(generation))), ("id", .string($0.id))])
        } + (0..<path.hiddenReaders).map { _ in .object([("type", "hidden"), ("id", "")]) })
        switch generation {
        case .v1_12:
            return .object([
                ("name", .string(path.name)), ("confName", "all_others"), ("source", source), ("ready", true),
                ("readyTime", since), ("tracks", .array(["H264", "MPEG-4 Audio"])),
                ("bytesReceived", inbound), ("bytesSent", outbound), ("readers", readers),
            ])
        case .v1_21:
            return .object([
                ("name", .string(path.name)), ("confName", "all_others"),
                ("available", true), ("availableTime", since), ("online", true), ("onlineTime", since),
                ("source", source), ("tracks2", tracks2), ("readers", readers), ("inboundBytes", inbound),
                ("outboundBytes", outbound), ("inboundFramesInError", 0),
            ])
        case .v1_20:
            return .object([
                ("name", .string(path.name)), ("confName", "all_others"), ("ready", true), ("readyTime", since),
                ("available", true), ("availableTime", since), ("online", true), ("onlineTime", since),
                ("source", source), ("tracks", .array(["H264", "MPEG-4 Audio"])),
                ("tracks2", tracks2),
                ("readers", readers), ("inboundBytes", inbound), ("outboundBytes", outbound),
                ("inboundFramesInError", 0), ("bytesReceived", inbound), ("bytesSent", outbound),
            ])
        }
    }

    static let tracks2 = JSON.array([
                    .object([("codec", "H264"), ("codecProps", .object([
                        ("width", 1280), ("height", 720), ("profile", "Main"), ("level", "4"),
                    ]))]),
                    .object([("codec", "MPEG-4 Audio"), ("codecProps", .object([
                        ("sampleRate", 48_000), ("channelCount", 2),
                    ]))]),
                ])

    static func connection(_ conn: SimConn, path: SimPath, generation: APIGeneration, nowMs: Int64) -> JSON {
        let elapsedMs = Double(max(0, nowMs - conn.counterStartMs))
        let bytes = Int64(path.bitrate / 8 * elapsedMs / 1_000)
        let inbound: Int64 = conn.publishing ? bytes : 0
        let outbound: Int64 = conn.publishing ? 0 : bytes
        let head: [(String, JSON)] = [
            ("id", .string(conn.id)), ("created", .string(iso(conn.createdMs))),
            ("remoteAddr", .string(conn.remoteAddr)),
        ]
        let state = JSON.string(conn.idle ? "idle" : conn.publishing ? "publish" : "read")
        let user: [(String, JSON)] = generation.isModern ? [("user", "")] : []
        switch conn.proto {
        case .srt:
            return srt(conn, head: head, state: state, path: path, user: user, inbound: inbound, outbound: outbound,
                       elapsedMs: elapsedMs, nowMs: nowMs)
        case .rtsp, .rtsps:
            let packetsIn = rtpPackets(inbound, conn.proto)
            let packetsOut = outbound / 1_200
            let lostIn = packetsIn / 2_000 + conn.scriptedLoss(
                packetsAt: { rtpPackets(path.inboundBytes(at: $0), conn.proto) }, nowMs: nowMs)
            let discarded = conn.discards(nowMs: nowMs)
            let jitter = JSON.double(conn.publishing ? 600 + conn.rttMs : 0)
            if generation == .v1_12 {
                return .object(head + [
                    ("state", state), ("path", .string(path.name)), ("query", ""), ("transport", "TCP"),
                    ("bytesReceived", .int(inbound)), ("bytesSent", .int(outbound)),
                    ("rtpPacketsReceived", .int(packetsIn)), ("rtpPacketsSent", .int(packetsOut)),
                    ("rtpPacketsLost", .int(lostIn)), ("rtpPacketsInError", 0), ("rtpPacketsJitter", jitter),
                    ("rtcpPacketsReceived", .int(packetsIn / 500)), ("rtcpPacketsSent", .int(packetsOut / 1_000)),
                    ("rtcpPacketsInError", 0),
                ])
            }
            return .object(head + [
                ("state", state), ("path", .string(path.name)), ("query", ""), ("user", ""),
                ("userAgent", "Lavf59.27.100"), ("transport", "TCP"), ("profile", "AVP"), ("conns", .array([])),
                ("inboundBytes", .int(inbound)), ("inboundRTPPackets", .int(packetsIn)),
                ("inboundRTPPacketsLost", .int(lostIn)), ("inboundRTPPacketsInError", 0),
                ("inboundRTPPacketsJitter", jitter), ("inboundRTCPPackets", .int(packetsIn / 500)),
                ("inboundRTCPPacketsInError", 0), ("outboundBytes", .int(outbound)),
                ("outboundRTPPackets", .int(packetsOut)), ("outboundRTPPacketsReportedLost", .int(discarded * 3)),
                ("outboundRTPPacketsDiscarded", .int(discarded)), ("outboundRTCPPackets", .int(packetsOut / 1_000)),
            ] + (generation.sendsDeprecated ? [
                ("bytesReceived", .int(inbound)), ("bytesSent", .int(outbound)),
                ("rtpPacketsReceived", .int(packetsIn)), ("rtpPacketsSent", .int(packetsOut)),
                ("rtpPacketsLost", .int(lostIn)), ("rtpPacketsInError", 0), ("rtpPacketsJitter", jitter),
                ("rtcpPacketsReceived", .int(packetsIn / 500)), ("rtcpPacketsSent", .int(packetsOut / 1_000)),
                ("rtcpPacketsInError", 0),
            ] : []))
        case .rtmp, .rtmps:
            if generation == .v1_12 {
                return .object(head + [
                    ("state", state), ("path", .string(path.name)), ("query", ""),
                    ("bytesReceived", .int(inbound)), ("bytesSent", .int(outbound)),
                ])
            }
            return .object(head + [
                ("state", state), ("path", .string(path.name)), ("query", ""), ("user", ""),
                ("userAgent", conn.publishing ? "FMLE/3.0 (compatible; Lavf59.27.100)" : "LNX 9,0,124,2"),
                ("inboundBytes", .int(inbound)), ("outboundBytes", .int(outbound)),
                ("outboundFramesDiscarded", .int(conn.discards(nowMs: nowMs))),
            ] + (generation.sendsDeprecated ? [("bytesReceived", .int(inbound)), ("bytesSent", .int(outbound))] : []))
        case .webrtc:
            let packetsIn = rtpPackets(inbound, conn.proto)
            let packetsOut = outbound / 1_150
            let lostIn = packetsIn / 5_000 + conn.scriptedLoss(
                packetsAt: { rtpPackets(path.inboundBytes(at: $0), conn.proto) }, nowMs: nowMs)
            if generation == .v1_12 {
                return .object(head + [
                    ("peerConnectionEstablished", true), ("localCandidate", "host/udp/127.0.0.1/8189"),
                    ("remoteCandidate", "host/udp/10.0.0.2/50000"), ("state", state), ("path", .string(path.name)),
                    ("query", ""), ("bytesReceived", .int(inbound)), ("bytesSent", .int(outbound)),
                ])
            }
            return .object(head + [
                ("peerConnectionEstablished", true), ("localCandidate", "host/udp/127.0.0.1/8189"),
                ("remoteCandidate", "host/udp/10.0.0.2/50000"), ("state", state), ("path", .string(path.name)),
                ("query", ""), ("user", ""), ("userAgent", "Mozilla/5.0"),
                ("inboundBytes", .int(inbound)), ("inboundRTPPackets", .int(packetsIn)),
                ("inboundRTPPacketsLost", .int(lostIn)), ("inboundRTPPacketsJitter", .double(conn.rttMs / 10)),
                ("inboundRTCPPackets", .int(packetsIn / 500)), ("outboundBytes", .int(outbound)),
                ("outboundRTPPackets", .int(packetsOut)), ("outboundRTCPPackets", .int(packetsOut / 1_000)),
                ("outboundFramesDiscarded", .int(conn.discards(nowMs: nowMs))),
            ] + (generation.sendsDeprecated ? [
                ("bytesReceived", .int(inbound)), ("bytesSent", .int(outbound)),
                ("rtpPacketsReceived", .int(packetsIn)), ("rtpPacketsSent", .int(packetsOut)),
                ("rtpPacketsLost", .int(lostIn)), ("rtpPacketsJitter", .double(conn.rttMs / 10)),
                ("rtcpPacketsReceived", .int(packetsIn / 500)), ("rtcpPacketsSent", .int(packetsOut / 1_000)),
            ] : []))
        case .moq:
            return .object(head + [
                ("state", state), ("path", .string(path.name)), ("query", ""),
                ("transport", "webtransport"), ("version", "moqt-16"), ("userAgent", "moq-js/0.1"),
                ("inboundBytes", .int(inbound)), ("outboundBytes", .int(outbound)),
            ])
        case .hls:
            return .object([
                ("id", .string(conn.id)), ("created", .string(iso(conn.createdMs))),
                ("remoteAddr", .string(conn.remoteAddr)), ("path", .string(path.name)), ("query", ""), ("user", ""),
                ("userAgent", "AppleCoreMedia/1.0.0"), ("isCDN", false), ("outboundBytes", .int(outbound)),
            ])
        }
    }

    /// An HLS muxer as each generation lists it.
    static func hlsMuxer(path: String, createdMs: Int64, bytes: Int64, discarded: Int64, generation: APIGeneration,
                         nowMs: Int64) -> JSON {
        var fields: [(String, JSON)] = [("path", .string(path)), ("created", .string(iso(createdMs))),
                                        ("lastRequest", .string(iso(nowMs)))]
        if generation.isModern {
            fields += [("outboundBytes", .int(bytes)), ("outboundFramesDiscarded", .int(discarded))]
        }
        if generation.sendsDeprecated { fields.append(("bytesSent", .int(bytes))) }
        return .object(fields)
    }

    /// A forward destination: v1.20 with `conf` (its URL, credentials and all) and `protocol`;
    /// v1.21 with `type` and neither deprecated field.
    static func forward(_ f: SimForward, pos: Int, bitrate: Double, generation: APIGeneration, nowMs: Int64) -> JSON {
        var fields: [(String, JSON)] = [("id", .string(f.id)), ("created", .string(iso(f.createdMs)))]
        if generation.sendsDeprecated {
            fields.append(("conf", .object([("dest", .string(f.dest)), ("destFingerprint", ""), ("whipBearerToken", "")])))
        }
        fields += [("lastError", .string(f.error)), ("outboundBytes", .int(f.outboundBytes(at: nowMs, bitrate: bitrate))),
                   ("pos", .int(Int64(pos)))]
        fields.append(generation.sendsDeprecated ? ("protocol", .string(f.type)) : ("type", .string(f.type)))
        fields.append(("state", .string(f.state)))
        return .object(fields)
    }

    /// RTP packets that carry `bytes` of `proto`'s payload (about 1,200 bytes each over RTSP,
    /// 1,150 over WebRTC).
    static func rtpPackets(_ bytes: Int64, _ proto: SimProtocol) -> Int64 {
        bytes / (proto == .webrtc ? 1_150 : 1_200)
    }

    /// An SRT connection with every statistic MediaMTX reports; the path figure is the payload,
    /// SRT's byte counters carry ~7.5 % MPEG-TS and SRT overhead, as a real server shows.
    static func srt(_ conn: SimConn, head: [(String, JSON)], state: JSON, path: SimPath, user: [(String, JSON)],
                    inbound: Int64, outbound: Int64, elapsedMs: Double, nowMs: Int64) -> JSON {
        let wireIn = Int64(Double(inbound) * 1.075)
        let wireOut = Int64(Double(outbound) * 1.075)
        let packetsIn = wireIn / 1_316
        let packetsOut = wireOut / 1_316
        let lossIn = packetsIn / 1_000
        let retransOut = packetsOut / 1_000
        let rate = path.bitrate / 1_000_000
        // RTT wanders ±20 % around the connection's base with a 60 s period.
        let phase = elapsedMs / 60_000 * 2 * Double.pi
        let rtt = conn.rttMs * (1 + 0.2 * sin(phase))
        let fields: [(String, JSON)] = [
            ("state", state), ("path", .string(path.name)), ("query", "")] + user + [
            ("packetsSent", .int(packetsOut)), ("packetsReceived", .int(packetsIn)),
            ("packetsSentUnique", .int(packetsOut - retransOut)), ("packetsReceivedUnique", .int(packetsIn - lossIn)),
            ("packetsSendLoss", .int(retransOut)), ("packetsReceivedLoss", .int(lossIn)),
            ("packetsRetrans", .int(retransOut)), ("packetsReceivedRetrans", .int(lossIn)),
            ("packetsSentACK", .int(packetsIn / 6)), ("packetsReceivedACK", .int(packetsOut / 12)),
            ("packetsSentNAK", .int(lossIn)), ("packetsReceivedNAK", .int(retransOut)),
            ("packetsSentKM", 0), ("packetsReceivedKM", 0), ("usSndDuration", .int(conn.publishing ? 0 : Int64(elapsedMs * 1_000))),
            ("packetsReceivedBelated", 0), ("packetsSendDrop", 0), ("packetsReceivedDrop", .int(lossIn / 10)),
            ("packetsReceivedUndecrypt", 0), ("bytesReceived", .int(wireIn)), ("bytesSent", .int(wireOut)),
            ("bytesSentUnique", .int(wireOut)), ("bytesReceivedUnique", .int(wireIn)),
            ("bytesReceivedLoss", .int(lossIn * 1_316)), ("bytesRetrans", .int(retransOut * 1_316)),
            ("bytesReceivedRetrans", .int(lossIn * 1_316)), ("bytesReceivedBelated", 0), ("bytesSendDrop", 0),
            ("bytesReceivedDrop", .int(lossIn / 10 * 1_316)), ("bytesReceivedUndecrypt", 0),
            ("usPacketsSendPeriod", 10.5), ("packetsFlowWindow", 25_600), ("packetsFlightSize", conn.publishing ? 0 : 17),
            ("msRTT", .double(rtt)), ("mbpsSendRate", .double(conn.publishing ? 0 : rate * 1.075)),
            ("mbpsReceiveRate", .double(conn.publishing ? rate * 1.075 : 0)),
            ("mbpsLinkCapacity", .double(rate * 25)), ("bytesAvailSendBuf", 0), ("bytesAvailReceiveBuf", 0),
            ("mbpsMaxBW", -1), ("byteMSS", 1_500), ("packetsSendBuf", 0), ("bytesSendBuf", 0), ("msSendBuf", 0),
            ("msSendTsbPdDelay", 120), ("packetsReceiveBuf", 55), ("bytesReceiveBuf", 68_808), ("msReceiveBuf", 106),
            ("msReceiveTsbPdDelay", 120), ("packetsReorderTolerance", 0), ("packetsReceivedAvgBelatedTime", 0),
            ("packetsSendLossRate", 0), ("packetsReceivedLossRate", 0),
        ] + (user.isEmpty ? [] : [("outboundFramesDiscarded", .int(conn.discards(nowMs: nowMs)))])
        return .object(head + fields)
    }
}

extension JSON: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .double(value) }
}

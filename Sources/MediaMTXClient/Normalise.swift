import MTXMonCore

/// Turns raw list items into samples without derived figures (bitrates come from `RateTracker`).
public enum Normalise {
    /// One sample per named path; items without a name are skipped, duplicate names (a path that
    /// moved between pages while they were read) keep their first occurrence.
    public static func samples(paths: [WirePath], srtConns: [WireSRTConn]) -> [PathSample] {
        var publishers: [String: WireSRTConn] = [:]
        for conn in srtConns where conn.state == "publish" {
            guard let path = conn.path, !path.isEmpty, publishers[path] == nil else { continue }
            publishers[path] = conn
        }
        var seen = Set<String>()
        var result: [PathSample] = []
        result.reserveCapacity(paths.count)
        for item in paths {
            guard let name = item.name, seen.insert(name).inserted else { continue }
            var readersByType: [String: Int] = [:]
            for reader in item.readers ?? [] {
                readersByType[reader.type ?? "unknown", default: 0] += 1
            }
            let srt = publishers[name].map(srtLink)
            result.append(PathSample(
                name: name,
                online: item.online ?? item.ready ?? false,
                sourceType: item.source?.type,
                sourceID: item.source?.id,
                inboundBytes: item.inboundBytes ?? item.bytesReceived ?? 0,
                outboundBytes: item.outboundBytes ?? item.bytesSent ?? 0,
                readers: item.readers?.count ?? 0,
                readersByType: readersByType,
                inboundFramesInError: item.inboundFramesInError,
                srt: srt
            ))
        }
        return result
    }

    static func srtLink(_ conn: WireSRTConn) -> SRTLink {
        SRTLink(
            connectionID: conn.id ?? "",
            rttMs: conn.msRTT,
            recvRateMbps: conn.mbpsReceiveRate,
            linkCapacityMbps: conn.mbpsLinkCapacity,
            tsbpdDelayMs: conn.msReceiveTsbPdDelay,
            packetsReceived: conn.packetsReceived,
            packetsReceivedLoss: conn.packetsReceivedLoss,
            packetsReceivedRetrans: conn.packetsReceivedRetrans,
            packetsReceivedDrop: conn.packetsReceivedDrop
        )
    }
}

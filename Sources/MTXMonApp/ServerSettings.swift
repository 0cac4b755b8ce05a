import Foundation
import MediaMTXClient
import MTXMonCore
import Yams

/// One MediaMTX server of the fleet, as configured.
public struct ServerSetting: Sendable {
    public var name: String
    public var endpoint: MediaMTXEndpoint
    /// Its own interval, a whole multiple of `MTXMON_INTERVAL` (the tick grid); `nil`: every tick.
    public var interval: Duration?

    public init(name: String, endpoint: MediaMTXEndpoint, interval: Duration? = nil) {
        self.name = name
        self.endpoint = endpoint
        self.interval = interval
    }
}

/// The fleet from `MTXMON_SERVERS` (`name=url,…`) and `MTXMON_SERVERS_FILE` (YAML, for credentials
/// that should not sit in an environment line). Every problem is reported, with the entry it is in.
enum ServerList {
    /// An entry of the servers file; every field but `name` may be left out (`url` when
    /// `MTXMON_SERVERS` gives it).
    struct FileEntry: Decodable {
        var name: String
        var url: String?
        var user: String?
        var pass: String?
        var token: String?
        var interval: String?
    }

    struct File: Decodable {
        var servers: [FileEntry]
    }

    static let fileExample = """
        servers:
          - name: ingest
            url: http://10.0.0.5:9997
            user: mtxmon
            pass: secret
          - name: edge1
            url: https://edge1:9997
            token: abc123
            interval: 10s
        """

    /// `problems` gets each entry that cannot be used; the servers returned are the usable ones.
    static func parse(list: String?, file: (path: String, text: String)?, defaults: MediaMTXEndpoint,
                      interval: Duration, problems: inout [String]) -> [ServerSetting] {
        var servers: [ServerSetting] = []
        var seen: [String: Int] = [:]
        for raw in list?.split(separator: ",", omittingEmptySubsequences: false) ?? [] {
            let entry = String(raw).trimmingCharacters()
            if entry.isEmpty {
                problems.append("MTXMON_SERVERS has an empty entry: list servers as name=url separated by commas, "
                    + "e.g. ingest=http://10.0.0.5:9997,edge1=https://edge1:9997")
                continue
            }
            guard let eq = entry.firstIndex(of: "=") else {
                problems.append("MTXMON_SERVERS entry '\(Redaction.url(entry))' is not name=url: write e.g. "
                    + "ingest=http://10.0.0.5:9997")
                continue
            }
            let name = String(entry[..<eq]).trimmingCharacters()
            let url = String(entry[entry.index(after: eq)...]).trimmingCharacters()
            let source = "MTXMON_SERVERS entry '\(name)=\(Redaction.url(url))'"
            guard check(name: name, url: url, source: source, &problems) else { continue }
            if seen[name] != nil {
                problems.append("MTXMON_SERVERS names server '\(name)' twice: give each server one name")
                continue
            }
            seen[name] = servers.count
            servers.append(ServerSetting(name: name, endpoint: Self.endpoint(url, defaults)))
        }
        guard let file else { return servers }
        let source = "MTXMON_SERVERS_FILE='\(file.path)'"
        let parsed: File
        do {
            parsed = try YAMLDecoder().decode(File.self, from: file.text)
        } catch {
            problems.append("\(source) is not a servers file (\(Self.describe(error))): write YAML like\n\(fileExample)")
            return servers
        }
        var inFile = Set<String>()
        for entry in parsed.servers {
            let what = "\(source): server '\(entry.name)'"
            guard inFile.insert(entry.name).inserted else {
                problems.append("\(source) names server '\(entry.name)' twice: give each server one entry")
                continue
            }
            var setting: ServerSetting
            if let at = seen[entry.name] {
                setting = servers[at]
                if let url = entry.url, Self.endpoint(url, defaults).baseURL != setting.endpoint.baseURL {
                    problems.append("\(what) has url \(Redaction.url(url)) but MTXMON_SERVERS gives "
                        + "\(setting.endpoint.baseURL): give the URL in one place")
                    continue
                }
            } else {
                guard let url = entry.url else {
                    problems.append("\(what) has no url: add e.g. url: http://10.0.0.5:9997")
                    continue
                }
                guard check(name: entry.name, url: url, source: what, &problems) else { continue }
                setting = ServerSetting(name: entry.name, endpoint: Self.endpoint(url, defaults))
            }
            let urlHasCredentials = entry.url.map { Redaction.credentials(in: $0).user != nil } ?? false
            if urlHasCredentials, entry.token != nil || entry.user != nil || entry.pass != nil {
                problems.append("\(what) has a user and password in its url and user/pass or token beside it: "
                    + "give the credentials in one place")
                continue
            }
            if let token = entry.token {
                if entry.user != nil || entry.pass != nil {
                    problems.append("\(what) has both a token and user/pass: MediaMTX takes one, keep one")
                    continue
                }
                setting.endpoint.credentials = .bearer(token: token)
            } else if let user = entry.user {
                setting.endpoint.credentials = .basic(user: user, password: entry.pass ?? "")
            } else if entry.pass != nil {
                problems.append("\(what) has pass without user: add e.g. user: mtxmon")
                continue
            }
            if let text = entry.interval {
                do {
                    let ms = try DurationParser.milliseconds(text)
                    let base = interval.milliseconds
                    if ms < base || ms % base != 0 || ms > 3_600_000 {
                        problems.append("\(what) has interval \(text): it must be a whole multiple of MTXMON_INTERVAL "
                            + "(\(base) ms), at most 1h, e.g. \(base * 5 / 1_000)s")
                        continue
                    }
                    setting.interval = .milliseconds(ms)
                } catch {
                    problems.append("\(what) has interval=\(error)")
                    continue
                }
            }
            if let at = seen[entry.name] {
                servers[at] = setting
            } else {
                seen[entry.name] = servers.count
                servers.append(setting)
            }
        }
        return servers
    }

    /// `defaults` (page size, the environment's credentials) at `url`, its trailing slashes gone. A
    /// user and password in the URL are the server's own credentials (basic auth) and leave the
    /// URL: what is shown anywhere is the URL without them.
    static func endpoint(_ url: String, _ defaults: MediaMTXEndpoint) -> MediaMTXEndpoint {
        let (stripped, user, password) = Redaction.credentials(in: url)
        let credentials = user.map { MediaMTXEndpoint.Credentials.basic(user: $0, password: password ?? "") }
        return MediaMTXEndpoint(baseURL: stripped, credentials: credentials ?? defaults.credentials,
                                pageSize: defaults.pageSize, requestTimeout: defaults.requestTimeout,
                                maxBodyBytes: defaults.maxBodyBytes)
    }

    static func check(name: String, url: String, source: String, _ problems: inout [String]) -> Bool {
        if let problem = ServerName.problem(name) {
            problems.append("\(source): \(problem): use e.g. ingest or edge-1")
            return false
        }
        if !(url.hasPrefix("http://") || url.hasPrefix("https://")) || url.count < 10 {
            problems.append("\(source): '\(Redaction.url(url))' is not an http(s) URL: use e.g. http://10.0.0.5:9997")
            return false
        }
        if let problem = hostProblem(Redaction.credentials(in: url).url) {
            problems.append("\(source): \(problem): use e.g. http://10.0.0.5:9997")
            return false
        }
        return true
    }

    /// What is wrong with the host and port of an http(s) URL, or `nil`: a port that is not a
    /// number from 1 to 65535, or no host at all.
    static func hostProblem(_ url: String) -> String? {
        guard let sep = url.firstIndex(of: "/") else { return nil }
        let rest = url[sep...].dropFirst(2)
        let authority = rest.prefix { !"/?#".contains($0) }
        if authority.isEmpty { return "'\(Redaction.url(url))' has no host" }
        if authority.hasPrefix("[") { return nil }
        if let colon = authority.lastIndex(of: ":") {
            let port = authority[authority.index(after: colon)...]
            guard let n = Int(port), (1...65_535).contains(n) else {
                return "'\(Redaction.url(url))' has port '\(port)', which is not a number from 1 to 65535"
            }
        }
        return nil
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case let DecodingError.keyNotFound(key, context):
            "missing \(key.stringValue)\(path(context))"
        case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
             let DecodingError.dataCorrupted(context):
            "\(context.debugDescription)\(path(context))"
        default:
            "\(error)"
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        return path.isEmpty ? "" : " at \(path)"
    }
}

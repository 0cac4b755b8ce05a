/// The name a MediaMTX server goes by in a fleet: in URLs (`?server=`), Redis keys
/// (`mediamtx:node:<name>:…`), metric labels and the history file, as it is.
public enum ServerName {
    /// What a single-server install calls its server, and what everything recorded before
    /// fleets belongs to.
    public static let `default` = "default"
    public static let maxLength = 64

    /// Why `name` cannot name a server, or `nil` when it can: 1–64 letters, digits, `.`, `_`
    /// or `-`, starting with a letter or digit (the history file's CHECK says the same).
    public static func problem(_ name: String) -> String? {
        guard !name.isEmpty else { return "a server name is empty" }
        guard name.utf8.count <= maxLength else { return "server name '\(name.prefix(80))' is longer than \(maxLength) characters" }
        func allowed(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
        }
        guard name.utf8.allSatisfy(allowed) else {
            return "server name '\(name)' has a character other than letters, digits, '.', '_' and '-'"
        }
        guard let first = name.utf8.first, allowed(first), first != UInt8(ascii: "."), first != UInt8(ascii: "_"),
              first != UInt8(ascii: "-") else {
            return "server name '\(name)' must start with a letter or a digit"
        }
        return nil
    }
}

/// Which mtxmon this is: the release version and the build it came from.
///
/// `version` changes with each release. `build` is `source` in the tree; `scripts/package-deb`
/// writes `git describe` of the tree it packages into its build copy, so an installed binary
/// names the commit it was built from.
public enum BuildInfo {
    public static let version = "0.6.0"
    public static let build = "source"

    /// `0.6.0 (build v0.6.0-3-gabc1234)`: what `--version`, the start log and `/healthz` say.
    public static var description: String { "\(version) (build \(build))" }

    /// What mtxmon sends MediaMTX, so its logs can tell mtxmon's requests from others'.
    public static var userAgent: String { "mtxmon/\(version)" }
}

/// A query parameter that cannot be used. The message names the parameter and shows a value
/// that would be accepted, so the caller can fix the request without reading the docs.
public struct QueryError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The parameter at fault (`from`, `step`, `path`, …).
    public let parameter: String
    public let message: String

    public init(_ parameter: String, _ message: String) {
        self.parameter = parameter
        self.message = message
    }

    public var description: String { message }
}

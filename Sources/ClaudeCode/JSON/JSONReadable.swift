/// Read access to a JSON value, so frames decode the same way from a ``JSONValue`` and from a
/// ``JSONTapeView`` (which materializes only what is kept).
protocol JSONReadable {
    subscript(key: String) -> Self? { get }
    var stringValue: String? { get }
    var intValue: Int? { get }
    var doubleValue: Double? { get }
    var boolValue: Bool? { get }
    /// The elements, when this is an array.
    var elements: [Self]? { get }
    /// The value as a ``JSONValue``.
    var jsonValue: JSONValue { get }
}

extension JSONValue: JSONReadable {
    var elements: [JSONValue]? { arrayValue }
    var jsonValue: JSONValue { self }
}

extension JSONTapeView: JSONReadable {}

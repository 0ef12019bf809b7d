/// A streaming, byte-level CSV reader.
///
/// The file (plain or gzip) is read in chunks of `chunkSize` bytes into one
/// buffer and parsed in place: a record's fields are `(pointer, length)`
/// windows into that buffer, valid until the next call to `next()`. No
/// `String` is made per field; quoted fields are unescaped into a side
/// buffer. A record that straddles the end of the buffer is re-parsed from
/// its start after the rest of the bytes are moved to the front and more are
/// read (the buffer doubles when one record is larger than it, up to
/// `maxRecordBytes`: a record that reaches it — a file without line breaks —
/// is `DataError.recordTooLarge`, and a record of more than `maxFields`
/// fields `DataError.tooManyFields`, so no input makes memory grow without bound).
///
/// Grammar (RFC 4180 with the options of `CSVFormat`): records end at `\n` or
/// `\r\n`, or at the end of the file; fields are separated by one separator
/// byte; a field that starts with the quote character (after trimmed leading
/// spaces) is quoted: it runs to the next lone quote, `""` inside it stands
/// for one quote, and separators and line breaks inside it are data; after
/// the closing quote only trimmed spaces, a separator or the end of the
/// record may follow. A quote inside an unquoted field is an ordinary byte.
///
/// `line` is the 1-based physical line where the current record starts; line
/// breaks inside quoted fields are counted, so later lines stay exact.
final class CSVReader {
    let path: String
    private let source: ByteSource
    private let separator: UInt8
    private let quote: UInt8?
    private let trimLeading: Bool
    private let trimTrailing: Bool
    private let maxRecordBytes: Int
    private let maxFields: Int

    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Unescaped quoted-field bytes of the current record (never more than
    /// the record's raw bytes, so `capacity` bytes always suffice).
    private var scratch: UnsafeMutablePointer<UInt8>
    /// Valid bytes are `buffer[start..<end]`.
    private var start = 0
    private var end = 0
    private var sourceExhausted = false
    private var atFileStart = true

    private var fieldStarts: UnsafeMutablePointer<UnsafePointer<UInt8>>
    private var fieldLengths: UnsafeMutablePointer<Int>
    private var fieldCapacity = 64
    /// Number of fields of the current record.
    private(set) var fieldCount = 0
    /// 1-based line where the current record starts.
    private(set) var line = 0
    private var nextLine = 1
    /// Whether the current record is an empty line (one empty, unquoted field).
    private(set) var isBlankLine = false
    /// Whether the file held any byte at all (after a byte-order mark).
    private(set) var sawAnyByte = false

    private static let newline: UInt8 = 0x0A
    private static let carriageReturn: UInt8 = 0x0D
    private static let space: UInt8 = 0x20

    init(path: String, separator: UInt8, quote: UInt8?, trim: CSVFormat.Trim, chunkSize: Int = 4 << 20,
         maxRecordBytes: Int = CSVFormat.defaultMaxRecordBytes, maxFields: Int = CSVFormat.defaultMaxColumns) throws {
        precondition(chunkSize >= 16 && maxRecordBytes >= 16 && maxFields >= 1)
        self.maxRecordBytes = maxRecordBytes
        self.maxFields = maxFields
        fieldCapacity = min(fieldCapacity, maxFields)
        self.path = path
        source = try openByteSource(path: path)
        self.separator = separator
        self.quote = quote
        trimLeading = trim != .none
        trimTrailing = trim == .both
        capacity = min(chunkSize, maxRecordBytes)
        buffer = .allocate(capacity: capacity)
        scratch = .allocate(capacity: capacity)
        fieldStarts = .allocate(capacity: fieldCapacity)
        fieldLengths = .allocate(capacity: fieldCapacity)
    }

    deinit {
        buffer.deallocate()
        scratch.deallocate()
        fieldStarts.deallocate()
        fieldLengths.deallocate()
    }

    /// Pointer to the bytes of field `index` of the current record.
    @inline(__always) func fieldStart(_ index: Int) -> UnsafePointer<UInt8> { fieldStarts[index] }
    /// Length in bytes of field `index` of the current record.
    @inline(__always) func fieldLength(_ index: Int) -> Int { fieldLengths[index] }

    /// Field `index` as a `String` (for headers and error messages, not the hot path).
    func fieldString(_ index: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: fieldStarts[index], count: fieldLengths[index]), as: UTF8.self)
    }

    /// Advances to the next record; false at the end of the file.
    func next() throws -> Bool {
        while true {
            switch try parseRecord() {
            case .record: return true
            case .endOfInput: return false
            case .needMoreBytes: try refill()
            }
        }
    }

    private enum ParseOutcome { case record, needMoreBytes, endOfInput }

    /// Moves the unparsed bytes to the front (growing the buffer when they
    /// fill it) and reads more.
    private func refill() throws {
        let pending = end - start
        if pending == capacity {
            // The unfinished record fills the buffer.
            guard capacity < maxRecordBytes else {
                throw DataError(file: path, line: nextLine, problem: .recordTooLarge(limit: maxRecordBytes))
            }
            let newCapacity = min(capacity * 2, maxRecordBytes)
            let newBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            newBuffer.update(from: buffer + start, count: pending)
            buffer.deallocate()
            buffer = newBuffer
            scratch.deallocate()
            scratch = .allocate(capacity: newCapacity)
            capacity = newCapacity
        } else if start > 0 {
            if pending > 0 { buffer.update(from: buffer + start, count: pending) }
        }
        start = 0
        end = pending
        let n = try source.read(into: buffer + end, capacity: capacity - end)
        if n == 0 { sourceExhausted = true }
        end += n
        if atFileStart && (end >= 3 || sourceExhausted) {
            atFileStart = false
            if end >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF { start = 3 }
        }
        if end > start { sawAnyByte = true }
    }

    @inline(__always) private func appendField(_ pointer: UnsafePointer<UInt8>, _ length: Int) throws {
        if fieldCount == fieldCapacity {
            guard fieldCount < maxFields else {
                throw DataError(file: path, line: nextLine, problem: .tooManyFields(limit: maxFields))
            }
            let newCapacity = min(fieldCapacity * 2, maxFields)
            let starts = UnsafeMutablePointer<UnsafePointer<UInt8>>.allocate(capacity: newCapacity)
            starts.update(from: fieldStarts, count: fieldCount)
            fieldStarts.deallocate()
            fieldStarts = starts
            let lengths = UnsafeMutablePointer<Int>.allocate(capacity: newCapacity)
            lengths.update(from: fieldLengths, count: fieldCount)
            fieldLengths.deallocate()
            fieldLengths = lengths
            fieldCapacity = newCapacity
        }
        fieldStarts[fieldCount] = pointer
        fieldLengths[fieldCount] = length
        fieldCount += 1
    }

    private func parseRecord() throws -> ParseOutcome {
        if atFileStart { return .needMoreBytes }
        if start == end { return sourceExhausted ? .endOfInput : .needMoreBytes }
        let base = UnsafePointer(buffer)
        let e = base + end
        let exhausted = sourceExhausted
        var p = base + start
        var out = scratch
        var embeddedLineBreaks = 0
        var sawQuote = false
        fieldCount = 0

        fieldLoop: while true {
            var q = p
            if trimLeading { while q < e && q.pointee == CSVReader.space { q += 1 } }
            if q == e {
                if !exhausted { return .needMoreBytes }
                try appendField(q, 0)
                p = e
                break fieldLoop
            }
            if let quote, q.pointee == quote {
                sawQuote = true
                q += 1
                let fieldBegin = out
                quoted: while true {
                    if q == e {
                        if !exhausted { return .needMoreBytes }
                        line = nextLine
                        throw DataError(file: path, line: nextLine, column: fieldCount + 1, problem: .unterminatedQuote)
                    }
                    let b = q.pointee
                    if b == quote {
                        if q + 1 == e && !exhausted { return .needMoreBytes }
                        if q + 1 < e && (q + 1).pointee == quote {
                            out.pointee = quote
                            out += 1
                            q += 2
                            continue quoted
                        }
                        q += 1
                        break quoted
                    }
                    if b == CSVReader.newline { embeddedLineBreaks += 1 }
                    out.pointee = b
                    out += 1
                    q += 1
                }
                let fieldLength = out - fieldBegin
                if trimLeading { while q < e && q.pointee == CSVReader.space { q += 1 } }
                if q == e {
                    if !exhausted { return .needMoreBytes }
                    try appendField(fieldBegin, fieldLength)
                    p = e
                    break fieldLoop
                }
                let b = q.pointee
                if b == separator {
                    try appendField(fieldBegin, fieldLength)
                    p = q + 1
                    continue fieldLoop
                }
                if b == CSVReader.newline {
                    try appendField(fieldBegin, fieldLength)
                    p = q + 1
                    break fieldLoop
                }
                if b == CSVReader.carriageReturn {
                    if q + 1 == e {
                        if !exhausted { return .needMoreBytes }
                        try appendField(fieldBegin, fieldLength)
                        p = e
                        break fieldLoop
                    }
                    if (q + 1).pointee == CSVReader.newline {
                        try appendField(fieldBegin, fieldLength)
                        p = q + 2
                        break fieldLoop
                    }
                }
                line = nextLine
                let shown = String(decoding: UnsafeBufferPointer(start: q, count: 1), as: UTF8.self)
                throw DataError(file: path, line: nextLine, column: fieldCount + 1,
                                problem: .unexpectedCharacterAfterQuote(found: shown))
            }
            // Unquoted field: runs to the next separator or line feed.
            var r = q
            let sep = separator
            while r < e {
                let b = r.pointee
                if b == sep || b == CSVReader.newline { break }
                r += 1
            }
            if r == e && !exhausted { return .needMoreBytes }
            let endsField = r < e && r.pointee == sep
            var fieldEnd = r
            if !endsField && fieldEnd > q && (fieldEnd - 1).pointee == CSVReader.carriageReturn { fieldEnd -= 1 }
            if trimTrailing { while fieldEnd > q && (fieldEnd - 1).pointee == CSVReader.space { fieldEnd -= 1 } }
            try appendField(q, fieldEnd - q)
            if endsField {
                p = r + 1
                continue fieldLoop
            }
            p = r < e ? r + 1 : e
            break fieldLoop
        }
        isBlankLine = fieldCount == 1 && fieldLengths[0] == 0 && !sawQuote
        start = p - base
        line = nextLine
        nextLine += 1 + embeddedLineBreaks
        return .record
    }
}

package dev.agentfn.mlflow.otlp;

import java.util.Arrays;

/**
 * Minimal protobuf wire-format writer: just what OTLP traces need, into one growing array.
 *
 * <p>A nested message is written in place: {@link #begin} reserves one byte for its length, {@link #end} fills it
 * in, moving the message's bytes along when the length needs more bytes (a message over 127 bytes). An earlier
 * version built every nested message in a writer of its own and copied it into its parent; with two nested
 * messages per attribute that was a quarter of everything the gateway allocated. Strings are encoded as UTF-8
 * straight into the array, with no intermediate byte array.
 */
final class ProtoWriter {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LEN = 2;
    static final int FIXED32 = 5;

    private byte[] buf;
    private int pos;

    ProtoWriter() {
        this(256);
    }

    ProtoWriter(int capacity) {
        buf = new byte[Math.max(16, capacity)];
    }

    ProtoWriter tag(int field, int wireType) {
        return rawVarint(((long) field << 3) | wireType);
    }

    ProtoWriter varint(int field, long value) {
        return tag(field, VARINT).rawVarint(value);
    }

    ProtoWriter bool(int field, boolean value) {
        return varint(field, value ? 1 : 0);
    }

    ProtoWriter fixed64(int field, long value) {
        tag(field, FIXED64);
        ensure(8);
        for (int i = 0; i < 8; i++) {
            buf[pos++] = (byte) (value >>> (8 * i));
        }
        return this;
    }

    ProtoWriter fixed32(int field, int value) {
        tag(field, FIXED32);
        ensure(4);
        for (int i = 0; i < 4; i++) {
            buf[pos++] = (byte) (value >>> (8 * i));
        }
        return this;
    }

    ProtoWriter doubleValue(int field, double value) {
        return fixed64(field, Double.doubleToRawLongBits(value));
    }

    ProtoWriter bytes(int field, byte[] value) {
        tag(field, LEN).rawVarint(value.length);
        return raw(value);
    }

    /** As {@link String#getBytes} with UTF-8 would encode it: an unpaired surrogate becomes {@code '?'}. */
    ProtoWriter string(int field, String value) {
        int length = Utf8.length(value);
        tag(field, LEN).rawVarint(length);
        ensure(length);
        pos = Utf8.encode(value, buf, pos);
        return this;
    }

    /** proto3 omits empty strings; so do we. */
    ProtoWriter stringIfNotEmpty(int field, String value) {
        return value == null || value.isEmpty() ? this : string(field, value);
    }

    /** Opens a nested message in {@code field}; returns the mark its {@link #end} takes. */
    int begin(int field) {
        tag(field, LEN);
        ensure(1);
        return pos++;
    }

    /** Closes the nested message {@link #begin} opened at {@code mark}, writing its length before it. */
    ProtoWriter end(int mark) {
        int length = pos - mark - 1;
        int extra = varintSize(length) - 1;
        if (extra > 0) {
            ensure(extra);
            System.arraycopy(buf, mark + 1, buf, mark + 1 + extra, length);
            pos += extra;
        }
        long v = length;
        int at = mark;
        while ((v & ~0x7FL) != 0) {
            buf[at++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        buf[at] = (byte) v;
        return this;
    }

    /** Bytes that are already encoded fields of this message (e.g. from {@link #toByteArray()} of a sibling). */
    ProtoWriter raw(byte[] fields) {
        ensure(fields.length);
        System.arraycopy(fields, 0, buf, pos, fields.length);
        pos += fields.length;
        return this;
    }

    int size() {
        return pos;
    }

    byte[] toByteArray() {
        return Arrays.copyOf(buf, pos);
    }

    static int varintSize(long value) {
        int size = 1;
        for (long v = value; (v & ~0x7FL) != 0; v >>>= 7) {
            size++;
        }
        return size;
    }

    private ProtoWriter rawVarint(long value) {
        ensure(10);
        long v = value;
        while ((v & ~0x7FL) != 0) {
            buf[pos++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        buf[pos++] = (byte) v;
        return this;
    }

    private void ensure(int more) {
        if (buf.length - pos < more) {
            long wanted = Math.max((long) buf.length * 2, (long) pos + more);
            if (wanted > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("an OTLP message over 2 GiB");
            }
            buf = Arrays.copyOf(buf, (int) wanted);
        }
    }
}

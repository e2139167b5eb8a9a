package dev.agentfn.mlflow.otlp;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Minimal protobuf wire-format writer: just what OTLP traces need. Nested messages are built
 * into their own writer first, then embedded length-delimited.
 */
final class ProtoWriter {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LEN = 2;
    static final int FIXED32 = 5;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream(256);

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
        for (int i = 0; i < 8; i++) {
            out.write((int) (value >>> (8 * i)) & 0xff);
        }
        return this;
    }

    ProtoWriter fixed32(int field, int value) {
        tag(field, FIXED32);
        for (int i = 0; i < 4; i++) {
            out.write((value >>> (8 * i)) & 0xff);
        }
        return this;
    }

    ProtoWriter doubleValue(int field, double value) {
        return fixed64(field, Double.doubleToRawLongBits(value));
    }

    ProtoWriter bytes(int field, byte[] value) {
        tag(field, LEN).rawVarint(value.length);
        out.writeBytes(value);
        return this;
    }

    ProtoWriter string(int field, String value) {
        return bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    /** proto3 omits empty strings; so do we. */
    ProtoWriter stringIfNotEmpty(int field, String value) {
        return value == null || value.isEmpty() ? this : string(field, value);
    }

    /** The nested writer's bytes go straight into this one: no intermediate array per level of nesting. */
    ProtoWriter message(int field, ProtoWriter nested) {
        tag(field, LEN).rawVarint(nested.out.size());
        try {
            nested.out.writeTo(out);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e); // a ByteArrayOutputStream never throws it
        }
        return this;
    }

    /** Bytes that are already encoded fields of this message (e.g. from {@link #toByteArray()} of a sibling). */
    ProtoWriter raw(byte[] fields) {
        out.writeBytes(fields);
        return this;
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }

    private ProtoWriter rawVarint(long value) {
        long v = value;
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
        return this;
    }
}

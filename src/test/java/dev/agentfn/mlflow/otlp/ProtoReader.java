package dev.agentfn.mlflow.otlp;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Test-side protobuf decoder: splits a message into its raw fields. */
final class ProtoReader {
    record Field(int number, int wireType, long number64, byte[] bytes) {
        String string() {
            return new String(bytes, StandardCharsets.UTF_8);
        }

        List<Field> message() {
            return parse(bytes);
        }
    }

    private ProtoReader() {
    }

    static List<Field> parse(byte[] data) {
        List<Field> fields = new ArrayList<>();
        int[] pos = {0};
        while (pos[0] < data.length) {
            long tag = varint(data, pos);
            int number = (int) (tag >>> 3);
            int wire = (int) (tag & 7);
            switch (wire) {
                case 0 -> fields.add(new Field(number, wire, varint(data, pos), null));
                case 1 -> fields.add(new Field(number, wire, fixed(data, pos, 8), null));
                case 5 -> fields.add(new Field(number, wire, fixed(data, pos, 4), null));
                case 2 -> {
                    int len = (int) varint(data, pos);
                    byte[] b = java.util.Arrays.copyOfRange(data, pos[0], pos[0] + len);
                    pos[0] += len;
                    fields.add(new Field(number, wire, 0, b));
                }
                default -> throw new IllegalArgumentException("wire type " + wire);
            }
        }
        return fields;
    }

    static List<Field> all(List<Field> fields, int number) {
        return fields.stream().filter(f -> f.number() == number).toList();
    }

    static Field one(List<Field> fields, int number) {
        List<Field> found = all(fields, number);
        if (found.size() != 1) {
            throw new AssertionError("expected one field " + number + ", found " + found.size());
        }
        return found.get(0);
    }

    private static long varint(byte[] d, int[] pos) {
        long result = 0;
        for (int shift = 0; ; shift += 7) {
            byte b = d[pos[0]++];
            result |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
        }
    }

    private static long fixed(byte[] d, int[] pos, int n) {
        long v = 0;
        for (int i = 0; i < n; i++) {
            v |= (long) (d[pos[0]++] & 0xff) << (8 * i);
        }
        return v;
    }
}

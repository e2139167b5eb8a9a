package dev.agentfn.evaluation;

import java.util.ArrayList;
import java.util.List;

/** RFC 4180 CSV: quoted fields may hold commas, doubled quotes and line breaks. */
final class Csv {
    /** @param line the 1-based line the record starts on, for error messages */
    record Record(int line, List<String> fields) {
    }

    private Csv() {
    }

    static List<Record> parse(List<String> lines) {
        List<Record> records = new ArrayList<>();
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        int start = 1;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (!quoted && line.isBlank() && fields.isEmpty() && field.isEmpty()) {
                start = i + 2;
                continue;
            }
            quoted = scan(line, fields, field, quoted, i + 1);
            if (quoted) {
                field.append('\n');
                continue;
            }
            fields.add(field.toString());
            field.setLength(0);
            records.add(new Record(start, List.copyOf(fields)));
            fields.clear();
            start = i + 2;
        }
        if (quoted) {
            throw new EvaluationException("line " + start + ": a quoted field is never closed");
        }
        return records;
    }

    /** Consumes one physical line; returns whether a quoted field continues on the next line. */
    private static boolean scan(String line, List<String> fields, StringBuilder field, boolean quoted, int lineNo) {
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c != '"') {
                    field.append(c);
                } else if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else {
                    quoted = false;
                    if (i + 1 < line.length() && line.charAt(i + 1) != ',') {
                        throw new EvaluationException("line " + lineNo + ", column " + (i + 2)
                                + ": text after a closing quote");
                    }
                }
            } else if (c == ',') {
                fields.add(field.toString());
                field.setLength(0);
            } else if (c == '"' && field.isEmpty()) {
                quoted = true;
            } else {
                field.append(c);
            }
        }
        return quoted;
    }
}

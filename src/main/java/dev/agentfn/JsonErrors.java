package dev.agentfn;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import java.util.regex.Pattern;

/**
 * A JSON parse error in words a caller or dataset author can act on: the column and what was wrong, without the parser's
 * internals (character codes, {@code [Source: …]}, which would echo the line's content).
 */
public final class JsonErrors {
    private static final Pattern CODE = Pattern.compile("\\('(.*?)' \\(code \\d+\\)\\)");

    private JsonErrors() {
    }

    /** {@code " at column 14: unexpected character '}': expected a value"}. */
    public static String describe(JsonProcessingException e) {
        String m = reason(e);
        JsonLocation at = e.getLocation();
        String column = at == null || at.getColumnNr() < 1 ? "" : " at column " + at.getColumnNr();
        return column + (m.isEmpty() ? "" : ": " + m);
    }

    /** What was wrong, in the parser's words minus its internals: {@code unexpected character '}': expected a value}. */
    public static String reason(JsonProcessingException e) {
        String m = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
        for (String cut : new String[] {"\n", " (start marker", " at [Source"}) {
            int i = m.indexOf(cut);
            if (i >= 0) {
                m = m.substring(0, i);
            }
        }
        m = CODE.matcher(m).replaceAll("'$1'").strip();
        return m.isEmpty() ? m : Character.toLowerCase(m.charAt(0)) + m.substring(1);
    }
}

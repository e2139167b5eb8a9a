package dev.agentfn.standin;

import java.util.Arrays;
import java.util.Locale;

/** What the fake answers when its turn queue is empty. */
public enum Scenario {
    /** {@code "[local stand-in, not Claude] " + last user text}, end_turn. */
    ECHO("echo"),
    /**
     * If the request declares tools and the conversation holds fewer than N tool_result
     * rounds, call the first declared tool with arguments derived from its schema; otherwise
     * answer like {@link #ECHO}. N = 2 gives three model turns per conversation.
     */
    TOOL_LOOP("tool-loop");

    private final String wireName;

    Scenario(String wireName) {
        this.wireName = wireName;
    }

    /** The name used on the command line and in {@code /_fake/config}. */
    public String wireName() {
        return wireName;
    }

    /** Accepts the wire name ({@code tool-loop}) or the enum name ({@code TOOL_LOOP}). */
    public static Scenario parse(String name) {
        String wanted = name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        return Arrays.stream(values())
                .filter(s -> s.wireName.equals(wanted))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown scenario: " + name));
    }
}

package dev.agentfn.standin;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Random ids shaped like the real API's ({@code msg_…}, {@code req_…}, {@code toolu_…}).
 * Not security relevant, so ThreadLocalRandom avoids contention under benchmark load.
 */
final class Ids {
    private static final char[] ALPHABET =
            "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();

    private Ids() {
    }

    static String message() {
        return "msg_01" + random(22);
    }

    static String request() {
        return "req_01" + random(22);
    }

    static String toolUse() {
        return "toolu_01" + random(22);
    }

    private static String random(int length) {
        char[] out = new char[length];
        for (int i = 0; i < length; i++) {
            out[i] = ALPHABET[ThreadLocalRandom.current().nextInt(ALPHABET.length)];
        }
        return new String(out);
    }
}

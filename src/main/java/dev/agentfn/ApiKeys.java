package dev.agentfn;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * agentfn's own API keys, held as SHA-256 digests and compared with {@link MessageDigest#isEqual}, so neither
 * length nor content leaks through timing. Shared by the front doors that accept them (the API, the gateway).
 */
public final class ApiKeys {
    private final List<byte[]> digests;
    /** Named keys' digests and their users ({@code agentfn.auth.users}). */
    private final List<Map.Entry<byte[], String>> owners;

    public ApiKeys(List<String> keys) {
        this(keys, Map.of());
    }

    /** @param users user name to key; these keys are accepted too */
    public ApiKeys(List<String> keys, Map<String, String> users) {
        List<byte[]> all = new ArrayList<>(keys.stream().map(ApiKeys::sha256).toList());
        List<Map.Entry<byte[], String>> named = new ArrayList<>();
        users.forEach((user, key) -> {
            if (key != null && !key.isBlank()) {
                byte[] d = sha256(key.strip());
                all.add(d);
                named.add(Map.entry(d, user));
            }
        });
        this.digests = List.copyOf(all);
        this.owners = List.copyOf(named);
    }

    public boolean isEmpty() {
        return digests.isEmpty();
    }

    public boolean matches(String presented) {
        byte[] d = sha256(presented);
        boolean match = false;
        for (byte[] k : digests) {
            match |= MessageDigest.isEqual(k, d);
        }
        return match;
    }

    /** The user a named key belongs to; empty for an unnamed or unknown key. */
    public Optional<String> owner(String presented) {
        byte[] d = sha256(presented);
        String found = null;
        for (Map.Entry<byte[], String> o : owners) {
            if (MessageDigest.isEqual(o.getKey(), d)) {
                found = o.getValue();
            }
        }
        return Optional.ofNullable(found);
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

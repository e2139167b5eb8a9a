package dev.agentfn.conversation.claudecode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The directory one agentfn process keeps its throw-away CLI directories in, under the work root:
 * {@code agentfn-cc-proc-<pid>-<start>} with a marker file naming its owner (PID and process start time).
 * A process that is killed cannot delete its directories (with {@code .claude.json} and session transcripts
 * in them); the next process removes them at start: every sibling whose marker names an owner that is no longer
 * running. Nothing without a marker is ever touched, and an owner counts as running only if a process with its
 * PID exists <em>and</em> started when the marker says, so a reused PID does not keep a dead owner's files.
 */
final class ProcessDirectory {
    static final String PREFIX = "agentfn-cc-proc-";
    static final String MARKER = ".agentfn-owner";
    private static final String MAGIC = "agentfn claude-code work directory";

    /** A process: its PID and start time (epoch ms; -1 where the platform does not report it). */
    record Owner(long pid, long startMillis) {
        static Owner current() {
            ProcessHandle self = ProcessHandle.current();
            return new Owner(self.pid(), startMillis(self));
        }

        /** Whether this process still runs: same PID and, where known, the same start time. */
        boolean alive() {
            return ProcessHandle.of(pid).map(h -> startMillis < 0 || startMillis(h) < 0 || startMillis(h) == startMillis)
                    .orElse(false);
        }

        String marker() {
            return MAGIC + "\npid=" + pid + "\nstart=" + startMillis + "\n";
        }

        static Optional<Owner> parse(String marker) {
            String[] lines = marker.split("\n");
            if (lines.length < 3 || !lines[0].equals(MAGIC) || !lines[1].startsWith("pid=") || !lines[2].startsWith("start=")) {
                return Optional.empty();
            }
            try {
                return Optional.of(new Owner(Long.parseLong(lines[1].substring(4)), Long.parseLong(lines[2].substring(6))));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }

        private static long startMillis(ProcessHandle h) {
            return h.info().startInstant().map(java.time.Instant::toEpochMilli).orElse(-1L);
        }
    }

    private ProcessDirectory() {
    }

    /** Creates this process's directory under {@code workRoot}, marker written before anything goes in. */
    static Path claim(Path workRoot, Owner owner) {
        try {
            Files.createDirectories(workRoot);
            Path dir = Files.createDirectories(workRoot.resolve(PREFIX + owner.pid() + "-" + owner.startMillis()));
            Files.writeString(dir.resolve(MARKER), owner.marker(), StandardCharsets.UTF_8);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Removes what processes no longer running left under {@code workRoot}; returns what was removed. */
    static List<Path> removeLeftovers(Path workRoot) {
        return removeLeftovers(workRoot, Owner::alive);
    }

    static List<Path> removeLeftovers(Path workRoot, Predicate<Owner> alive) {
        List<Path> removed = new ArrayList<>();
        if (!Files.isDirectory(workRoot)) {
            return removed;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(workRoot, PREFIX + "*")) {
            for (Path dir : dirs) {
                Optional<Owner> owner = owner(dir);
                if (owner.isPresent() && !alive.test(owner.get())) {
                    Workspace.deleteTree(dir);
                    removed.add(dir);
                }
            }
        } catch (IOException | UncheckedIOException e) {
            // a work root we cannot list holds nothing we could remove either
        }
        return removed;
    }

    /** The owner its marker names: only a real directory with a regular marker file of ours (links not followed). */
    private static Optional<Owner> owner(Path dir) {
        Path marker = dir.resolve(MARKER);
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) || !Files.isRegularFile(marker, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        try {
            if (Files.size(marker) > 256) {
                return Optional.empty();
            }
            return Owner.parse(Files.readString(marker, StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}

package dev.agentfn.conversation.claudecode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a killed agentfn process left under the work root is removed at the next start, and nothing else: not a
 * running owner's directory, not a directory without our marker, not what a link points to.
 */
class ProcessDirectoryTest {
    @TempDir
    Path root;

    /** A process that really ran and is gone: its PID and start time as a marker records them. */
    static ProcessDirectory.Owner deadProcess() throws Exception {
        Process p = new ProcessBuilder("sleep", "30").start();
        long start = p.toHandle().info().startInstant().orElseThrow().toEpochMilli();
        p.destroyForcibly();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        return new ProcessDirectory.Owner(p.pid(), start);
    }

    /** A directory as a killed process leaves it: the CLI's config and session files in a workspace. */
    private Path leftover(ProcessDirectory.Owner owner) throws Exception {
        Path dir = ProcessDirectory.claim(root, owner);
        Workspace ws = Workspace.temporary(dir);
        Files.writeString(ws.config().resolve(".claude.json"), "{}");
        Files.createDirectories(ws.config().resolve("projects/x"));
        Files.writeString(ws.config().resolve("projects/x/session.jsonl"), "{}");
        return dir;
    }

    @Test
    void onlyDirectoriesOfOwnersNoLongerRunningAreRemoved() throws Exception {
        Path dead = leftover(deadProcess());
        ProcessDirectory.Owner self = ProcessDirectory.Owner.current();
        // our PID, another start time: the PID was reused, that owner is gone
        Path reused = leftover(new ProcessDirectory.Owner(self.pid(), self.startMillis() - 60_000));
        Path live = leftover(self);
        Path noMarker = Files.createDirectories(root.resolve(ProcessDirectory.PREFIX + "1-1/work"));
        Path badMarker = Files.createDirectories(root.resolve(ProcessDirectory.PREFIX + "2-2"));
        Files.writeString(badMarker.resolve(ProcessDirectory.MARKER), "pid=2\nstart=2\n");
        Path foreign = Files.createDirectories(root.resolve("someone-elses"));
        Files.writeString(foreign.resolve(ProcessDirectory.MARKER), ProcessDirectory.Owner.current().marker());
        // a link with our prefix to a dead owner's directory elsewhere: neither followed nor its target touched
        Path elsewhere = Files.createTempDirectory("agentfn-elsewhere");
        Path target = ProcessDirectory.claim(elsewhere, deadProcess());
        Path link = Files.createSymbolicLink(root.resolve(ProcessDirectory.PREFIX + "3-3"), target);

        List<Path> removed = ProcessDirectory.removeLeftovers(root);

        assertEquals(Set.of(dead, reused), Set.copyOf(removed));
        assertFalse(Files.exists(dead));
        assertFalse(Files.exists(reused));
        for (Path kept : List.of(live, noMarker, badMarker, foreign, link, target.resolve(ProcessDirectory.MARKER))) {
            assertTrue(Files.exists(kept), kept + " is not ours to remove");
        }
        assertTrue(Files.exists(live.resolve(ProcessDirectory.MARKER)));
        Workspace.deleteTree(elsewhere);
    }

    @Test
    void theMarkerNamesItsOwner() {
        ProcessDirectory.Owner self = ProcessDirectory.Owner.current();
        assertEquals(self, ProcessDirectory.Owner.parse(self.marker()).orElseThrow());
        assertTrue(self.alive());
        assertTrue(ProcessDirectory.Owner.parse("pid=1\nstart=1\n").isEmpty(), "not our marker");
    }

    @Test
    void aMissingWorkRootHasNothingToRemove() {
        assertEquals(List.of(), ProcessDirectory.removeLeftovers(root.resolve("absent")));
    }
}

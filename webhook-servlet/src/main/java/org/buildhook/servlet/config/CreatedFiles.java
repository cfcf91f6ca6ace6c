package org.buildhook.servlet.config;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * The folders and files one start of buildhook created before it was running (the data folder and
 * its parents, generated secrets), so that a start that fails leaves none of them behind: the next
 * start generates and announces its secrets again, instead of using a secret nobody was told about
 * from a folder nobody asked for. Only what this start made is taken back: a file it created, and a
 * folder it created once it is empty; never a folder or file that existed before, nor one holding
 * anything else (a database the start had already created keeps its folder, and the secrets with it).
 */
public final class CreatedFiles {

    private final Deque<Entry> made = new ConcurrentLinkedDeque<>();

    private record Entry(Path path, boolean folder) {
    }

    /** Records a folder this start created. */
    void folder(Path folder) {
        made.push(new Entry(folder.toAbsolutePath(), true));
    }

    /** Records a file this start created. */
    void file(Path file) {
        made.push(new Entry(file.toAbsolutePath(), false));
    }

    /**
     * Takes back what was recorded, newest first, if every folder recorded can go: when one holds
     * something this start did not record as its own, nothing is removed. Returns what was removed.
     */
    public List<Path> takeBack() {
        List<Entry> newestFirst = new ArrayList<>(made);
        made.clear();
        List<Path> ours = newestFirst.stream().map(Entry::path).toList();
        for (Entry e : newestFirst) {
            if (e.folder() && !onlyOurs(e.path(), ours)) {
                return List.of();
            }
        }
        List<Path> removed = new ArrayList<>();
        for (Entry e : newestFirst) {
            try {
                if (Files.deleteIfExists(e.path())) {
                    removed.add(e.path());
                }
            } catch (DirectoryNotEmptyException ex) {
                return removed; // something arrived meanwhile: it, and the folders above it, stay
            } catch (IOException ex) {
                return removed;
            }
        }
        return removed;
    }

    private static boolean onlyOurs(Path folder, List<Path> ours) {
        try (var inside = Files.list(folder)) {
            return inside.allMatch(p -> ours.contains(p.toAbsolutePath()));
        } catch (IOException e) {
            return false;
        }
    }
}

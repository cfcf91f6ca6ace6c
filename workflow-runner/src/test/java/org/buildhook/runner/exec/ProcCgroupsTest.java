package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link ProcCgroups} on lines as the kernel writes them: v1, v2, a hybrid host, escaped mount points. */
class ProcCgroupsTest {

    @Test
    void aV2HostsCgroupFileHasOneUnifiedLine() {
        List<ProcCgroups.Membership> read = ProcCgroups.memberships(List.of("0::/system.slice/buildhook.service"));

        assertThat(read).containsExactly(new ProcCgroups.Membership("0", "", "/system.slice/buildhook.service"));
        assertThat(read.get(0).unified()).isTrue();
        assertThat(read.get(0).controls("cpu")).isFalse();
        assertThat(ProcCgroups.unifiedPath(read)).isEqualTo("/system.slice/buildhook.service");
    }

    @Test
    void aV1HostsCgroupFileHasALinePerHierarchyAndNoUnifiedOne() {
        List<ProcCgroups.Membership> read = ProcCgroups.memberships(List.of(
                "12:pids:/docker/4f1c",
                "4:cpu,cpuacct:/docker/4f1c",
                "1:name=systemd:/docker/4f1c",
                "not a line of it"));

        assertThat(read).hasSize(3);
        assertThat(read.get(1).controls("cpu")).isTrue();
        assertThat(read.get(1).controls("cpuacct")).isTrue();
        assertThat(read.get(1).controls("cpu,cpuacct")).isFalse();
        assertThat(read.get(1).controllers()).isEqualTo("cpu,cpuacct");
        assertThat(read.get(2).controls("name=systemd")).isTrue();
        assertThat(read).noneMatch(ProcCgroups.Membership::unified);
        assertThat(ProcCgroups.unifiedPath(read)).isNull();
    }

    /** This machine's kind: v1 controllers with the unified hierarchy beside them at /sys/fs/cgroup/unified. */
    @Test
    void aHybridHostHasBothAndTheUnifiedMountIsTheCgroup2One() {
        List<ProcCgroups.Membership> read = ProcCgroups.memberships(List.of(
                "9:name=systemd:/",
                "4:memory:/process_api/25da9535",
                "1:cpu:/",
                "0::/"));
        List<ProcCgroups.Mount> mounts = ProcCgroups.mounts(List.of(
                "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
                "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
                "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime shared:9 - cgroup cgroup rw,name=systemd",
                "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime shared:10 master:3 - cgroup2 cgroup2 rw"));

        assertThat(read.get(2).controls("cpu")).isTrue();
        assertThat(ProcCgroups.unifiedPath(read)).isEqualTo("/");
        assertThat(mounts).hasSize(4);
        assertThat(mounts.get(2)).isEqualTo(new ProcCgroups.Mount("/", "/sys/fs/cgroup/systemd", "cgroup"));
        assertThat(mounts.stream().filter(m -> m.type().equals("cgroup2")))
                .containsExactly(new ProcCgroups.Mount("/", "/sys/fs/cgroup/unified", "cgroup2"));
    }

    /** A cgroup namespace's or a bind's root, and octal escapes: {@code \040} space, {@code \011} tab, {@code \134}. */
    @Test
    void aMountsRootAndPointAreReadBackFromTheirOctalEscapes() {
        List<ProcCgroups.Mount> mounts = ProcCgroups.mounts(List.of(
                "29 23 0:26 /user.slice/a\\040b /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate",
                "88 29 0:26 / /mnt/with\\011tab\\134and\\040space rw - cgroup2 none rw",
                "90 29 0:40 / /mnt/ends\\04 rw - tmpfs tmpfs rw",
                "91 29 0:41 / /no/separator rw tmpfs tmpfs rw"));

        assertThat(mounts).containsExactly(
                new ProcCgroups.Mount("/user.slice/a b", "/sys/fs/cgroup", "cgroup2"),
                new ProcCgroups.Mount("/", "/mnt/with\ttab\\and space", "cgroup2"),
                new ProcCgroups.Mount("/", "/mnt/ends\\04", "tmpfs"));
        assertThat(ProcCgroups.unescape("\\040")).isEqualTo(" ");
        assertThat(ProcCgroups.unescape("a\\09b")).isEqualTo("a\\09b");
    }

    /** The kernel's own files on this host read as the samples are. */
    @Test
    void thisProcesssOwnFilesAreReadAsTheyAre() throws Exception {
        Path cgroup = Path.of("/proc/self/cgroup");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(cgroup), "Linux only");
        List<String> lines = Files.readAllLines(cgroup, StandardCharsets.UTF_8);

        assertThat(ProcCgroups.ofSelf()).contains(ProcCgroups.memberships(lines));
        assertThat(ProcCgroups.of(ProcessHandle.current().pid())).contains(ProcCgroups.memberships(lines));
        assertThat(ProcCgroups.mounts()).hasValueSatisfying(mounts -> assertThat(mounts).isNotEmpty()
                .anyMatch(m -> m.point().equals("/proc") && m.type().equals("proc")));
        assertThat(ProcCgroups.of(Long.MAX_VALUE)).isEmpty();
    }
}

# world.pl: a Perl workload for check-world (bare vs under mprof): hashes,
# regular expressions, sorting, string building, and a fork.  Its output is
# deterministic.
use strict;
use warnings;

my %count;
my $x = 12345;
for my $i (1 .. 200000) {
    $x = ($x * 1103515245 + 12345) % 2147483648;
    my $w = sprintf("k%04d", $x % 3000);
    $count{$w}++;
}
my @top = (sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count)[0 .. 9];
print join(" ", map { "$_=$count{$_}" } @top), "\n";

my $text = join(",", map { "$_:" . ($count{$_} * 3) } sort keys %count);
my @m = ($text =~ /k(\d)(\d)\d\d:(\d+)/g);
my $sum = 0;
$sum += $_ for @m;
print "matches ", scalar(@m), " sum $sum\n";

my $s = "";
$s .= chr(65 + $_ % 26) x ($_ % 5) for 1 .. 100000;
(my $t = $s) =~ s/(A+)(B*)/length($1) . lc($2)/ge;
print "len ", length($s), " ", length($t), "\n";

my $pid = fork();
die "fork: $!" unless defined $pid;
if ($pid == 0) {
    my @a = map { $_ * 2 } 1 .. 100000;
    exit(scalar(@a) % 251);
}
waitpid($pid, 0);
print "child status ", $? >> 8, "\n";

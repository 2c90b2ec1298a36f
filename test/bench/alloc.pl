# alloc.pl: the Perl workload of `make bench` (Debian's perl uses the
# system malloc).  Builds a hash of 300,000 keys holding small arrays, sorts
# and joins a third of the keys, splits them again and deletes them: about
# 1.5 million mallocs, most of them small, in under a second.
use strict;
use warnings;
my (%h, @a);
for my $i (1 .. 300000) {
    my $k = "key$i" x (1 + $i % 5);
    $h{$k} = [$i, "v$i"];
    push @a, $k if $i % 3 == 0;
}
my @s = sort { $h{$a}[0] <=> $h{$b}[0] } @a;
my $j = join(",", @s);
my @p = split(/,/, $j);
delete $h{$_} for @p;
print scalar(keys %h), " ", length($j), "\n";

# The workload of traces/real-perl.rep: hashes of strings, joins, a sort by
# value, a regex pass and deletions (Debian's perl uses the C library malloc).
use strict;
use warnings;
my %h;
for my $i (1 .. 350) {
    $h{"k$i"} = join(",", map { $_ * $i } 1 .. ($i % 20));
}
my @keys = sort { $h{$a} cmp $h{$b} or $a cmp $b } keys %h;
my $matches = grep { $h{$_} =~ /(\d+)7,/ } @keys;
delete $h{$_} for grep { /3$/ } @keys;
my $text = join("\n", map { "$_=$h{$_}" } sort keys %h);
print scalar(@keys), " $matches ", length($text), "\n";

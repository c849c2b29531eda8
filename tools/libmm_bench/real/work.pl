# A Perl workload for the libmm benchmark (tools/bench_libmm.py).
# Usage: perl work.pl N
# Builds N records of words and numbers in hashes and arrays, rewrites them
# with regular expressions, sorts them, counts the words, joins and splits
# strings; prints the counts and an MD5 digest of the results. The output
# depends only on N.
use strict;
use warnings;
use Digest::MD5 qw(md5_hex);

my $n = shift @ARGV or die "usage: perl work.pl N\n";
my @words = qw(alpha bravo charlie delta echo foxtrot golf hotel india juliet
               kilo lima mike november oscar papa quebec romeo sierra tango);
my $seed = 15213;
sub rnd { $seed = ($seed * 1103515245 + 12345) % 2147483648; return $seed % $_[0]; }

my (%by_key, @rows);
for my $i (1 .. $n) {
    my $line = join(" ", map { $words[rnd(scalar @words)] } 1 .. 1 + rnd(12));
    my $key = sprintf("k%05d", rnd(5000));
    push @{ $by_key{$key} }, $line;
    push @rows, { id => $i, key => $key, line => $line, len => length $line };
}
my %count;
for my $r (@rows) {
    (my $s = $r->{line}) =~ s/(\w+)/\u$1/g;
    $s =~ s/([aeiou])/<$1>/gi;
    $r->{shout} = $s;
    $count{$_}++ for split /\s+/, $r->{line};
}
my @sorted = sort { $a->{len} <=> $b->{len} or $a->{key} cmp $b->{key}
                    or $a->{id} <=> $b->{id} } @rows;
my $joined = join("\n", map { "$_->{id}:$_->{shout}" } @sorted);
my @back = split /\n/, $joined;
my $groups = join(";", map { "$_=" . scalar @{ $by_key{$_} } } sort keys %by_key);
printf "rows %d keys %d lines %d\n", scalar @rows, scalar keys %by_key, scalar @back;
print "$_ $count{$_}\n" for sort keys %count;
print "digest ", md5_hex($joined . $groups), "\n";

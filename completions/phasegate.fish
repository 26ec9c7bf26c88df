# fish completion for phasegate. Commands and options come from the binary
# itself (phasegate __complete), phase/step/tag values from the suite being
# completed (phasegate list --ids SUITE).

# Runs phasegate ($PHASEGATE when set, for tests).
function __phasegate
    if set -q PHASEGATE
        $PHASEGATE $argv
    else
        command phasegate $argv
    end
end

# The suite operand: the first word after the command that is not an
# option's value.
function __phasegate_suite
    set -l toks (commandline -opc)
    set -e toks[1]
    set -l cmd
    set -l valued
    set -l skip 0
    for t in $toks
        if test $skip = 1
            set skip 0
            continue
        end
        if string match -q -- '-*' $t
            if contains -- $t $valued
                set skip 1
            end
            continue
        end
        if test -z "$cmd"
            set cmd $t
            for line in (__phasegate __complete flags $cmd 2>/dev/null)
                set -l f (string split \t -- $line)
                test "$f[2]" != - ; and set -a valued $f[1]
            end
            continue
        end
        echo $t
        return 0
    end
    return 1
end

function __phasegate_ids
    set -l suite (__phasegate_suite); or return
    __phasegate list --ids $suite 2>/dev/null | string replace -rf "^$argv[1] " ''
end

complete -c phasegate -f
complete -c phasegate -n __fish_use_subcommand -l help -s h -d 'usage'
complete -c phasegate -n __fish_use_subcommand -l version -d "print phasegate's version"
for line in (__phasegate __complete commands 2>/dev/null)
    set -l c (string split \t -- $line)
    complete -c phasegate -n __fish_use_subcommand -a $c[1] -d $c[2]
    set -l when "__fish_seen_subcommand_from $c[1]"
    for fl in (__phasegate __complete flags $c[1] 2>/dev/null)
        set -l o (string split \t -- $fl)
        set -l opt -l (string replace -r '^--' '' -- $o[1])
        string match -q -- '--*' $o[1]; or set opt -s (string replace -r '^-' '' -- $o[1])
        switch $o[2]
            case -
                complete -c phasegate -n $when $opt -d $o[3]
            case file
                complete -c phasegate -n $when $opt -r -F -d $o[3]
            case dir
                complete -c phasegate -n $when $opt -x -a '(__fish_complete_directories)' -d $o[3]
            case phase step tag
                complete -c phasegate -n $when $opt -x -a "(__phasegate_ids $o[2])" -d $o[3]
            case verdict
                complete -c phasegate -n $when $opt -x -a go -d $o[3]
            case context
                complete -c phasegate -n $when $opt -x -a '(kubectl config get-contexts -o name 2>/dev/null)' -d $o[3]
            case '*'
                complete -c phasegate -n $when $opt -x -d $o[3]
        end
    end
end
complete -c phasegate -n '__fish_seen_subcommand_from run validate list report rbac merge' -F
complete -c phasegate -n '__fish_seen_subcommand_from help' -x -a '(__phasegate __complete commands | string replace -r "\t.*" "")'

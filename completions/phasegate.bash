# bash completion for phasegate. Commands and options come from the binary
# itself (phasegate __complete), phase/step/tag values from the suite being
# completed (phasegate list --ids SUITE).
_phasegate_ids()
{
    local kind=$1 suite=$2
    [[ -n $suite ]] || return
    "${PHASEGATE:-phasegate}" list --ids "$suite" 2>/dev/null | while read -r k id; do
        [[ $k == "$kind" ]] && printf '%s\n' "$id"
    done
}

_phasegate()
{
    local cur prev words cword split
    _init_completion -s || return
    local pg=${PHASEGATE:-phasegate}
    local cmd="" suite="" i
    for ((i = 1; i < cword; i++)); do
        if [[ ${words[i]} != -* ]]; then
            cmd=${words[i]}
            break
        fi
    done
    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W '--help --version' -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$("$pg" __complete commands 2>/dev/null | cut -f1)" -- "$cur"))
        fi
        return
    fi
    local -A kind
    local name k help
    while IFS=$'\t' read -r name k help; do
        kind[$name]=$k
    done < <("$pg" __complete flags "$cmd" 2>/dev/null)
    # the operand: the first word after the command that is not an option's value
    for ((i = i + 1; i < cword; i++)); do
        local w=${words[i]}
        if [[ $w == -* ]]; then
            [[ $w != *=* && -n ${kind[$w]} && ${kind[$w]} != - ]] && ((i++))
            continue
        fi
        suite=$w
        break
    done
    if [[ -n ${kind[$prev]} && ${kind[$prev]} != - ]]; then
        case ${kind[$prev]} in
        file) _filedir ;;
        dir) _filedir -d ;;
        phase | step | tag)
            COMPREPLY=($(compgen -W "$(_phasegate_ids "${kind[$prev]}" "$suite")" -- "$cur")) ;;
        verdict) COMPREPLY=($(compgen -W 'go' -- "$cur")) ;;
        context) COMPREPLY=($(compgen -W "$(kubectl config get-contexts -o name 2>/dev/null)" -- "$cur")) ;;
        esac
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "${!kind[*]}" -- "$cur"))
        [[ ${COMPREPLY-} == *= ]] && compopt -o nospace
        return
    fi
    case $cmd in
    help) COMPREPLY=($(compgen -W "$("$pg" __complete commands 2>/dev/null | cut -f1)" -- "$cur")) ;;
    run | validate | list | rbac) [[ -z $suite ]] && _filedir '@(yaml|yml)' ;;
    report) [[ -z $suite ]] && _filedir json ;;
    merge) _filedir json ;;
    esac
}
complete -F _phasegate phasegate

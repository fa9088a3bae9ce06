# bash completion for sipdrain(8)                          -*- shell-script -*-
# Installed by `make install` as
# $(PREFIX)/share/bash-completion/completions/sipdrain; works with or
# without the bash-completion package.
#
# One list per command: every option, short and long; an option that takes
# a value ends in '=' (what follows it is its value, see _sipdrain_values).
# A new option goes into its command's list (and, if its values are words,
# into _sipdrain_values); tests/dist_test.sh fails when an option that
# 'sipdrain CMD --help' prints is missing here.

_sipdrain_commands="run attach detach drain resume status classify version"

_sipdrain_opts_global="-v --verbose --version --pin-dir= -h --help"
_sipdrain_opts_attach="-p= --port= -m= --mode= -d= --max-dialogs= -I= --dialog-idle=
	--reply-rate= -b= --reply-burst= --peer-window= -T= --tcp-port= -W= --min-watch=
	-h --help"
_sipdrain_opts_run="$_sipdrain_opts_attach --detach-on-exit -k --keep-on-exit -R= --reason=
	-S= --server= -M= --metrics= -c= --coalesce-us="
_sipdrain_opts_detach="-h --help"
_sipdrain_opts_drain="-D= --deadline= -r= --retry-after= --retry-jitter= -a= --allow=
	-w --wait -x= --exec-on-offline= -n --no-early-offline -W= --min-watch=
	--at-deadline= --again --json -h --help"
_sipdrain_opts_resume="--json -h --help"
_sipdrain_opts_status="-j --json --watch -h --help"
_sipdrain_opts_classify="-s= --state= -p= --port= -a= --allow= -P --pcap -h --help"
_sipdrain_opts_version=""        # sipdrain version takes nothing

# The value words of an option ($1, long or short: a letter means one
# option in every command).  Durations: whole numbers with a unit.
_sipdrain_values()
{
	case $1 in
	-m | --mode)             echo "native skb" ;;
	-s | --state)            echo "serving draining offline" ;;
	-r | --retry-after)      echo "auto 60 300" ;;
	--retry-jitter)          echo "0 30 60" ;;
	-D | --deadline)         echo "30s 2m 5m 10m 30m 1h off" ;;
	--at-deadline)           echo "bye refuse" ;;
	-W | --min-watch)        echo "0 off 30m 2h" ;;
	-I | --dialog-idle)      echo "30m 2h" ;;
	--peer-window)           echo "0 off 1h 24h" ;;
	--reply-rate)            echo "0 off 1000" ;;
	-b | --reply-burst)      echo "2000" ;;
	-d | --max-dialogs)      echo "262144 1048576" ;;
	-c | --coalesce-us)      echo "0 500" ;;
	-p | --port)             echo "5060 5080" ;;
	-T | --tcp-port)         echo "5060 5061" ;;
	-M | --metrics)          echo "127.0.0.1:9560 0.0.0.0:9560 [::1]:9560" ;;
	-a | --allow)            echo "REGISTER OPTIONS SUBSCRIBE NOTIFY MESSAGE PUBLISH REFER INFO UPDATE PRACK INVITE BYE" ;;
	esac
}

# The options of a context ("global" or a command), '=' marks removed.
_sipdrain_opts()
{
	local v=_sipdrain_opts_$1 o out=
	for o in ${!v}; do
		out+=" ${o%=}"
	done
	echo "$out"
}

# Does option $2 take a value in context $1?
_sipdrain_takes_value()
{
	local v=_sipdrain_opts_$1
	[[ " $(echo ${!v}) " == *" $2= "* ]]
}

_sipdrain_ifaces()
{
	local d
	for d in /sys/class/net/*; do
		[[ -e $d ]] && echo "${d##*/}"
	done
}

_sipdrain()
{
	local cur=${COMP_WORDS[COMP_CWORD]} cword=$COMP_CWORD
	local prev= ctx=global i w opt= pcap=
	((cword > 0)) && prev=${COMP_WORDS[cword - 1]}
	COMPREPLY=()

	# The command and its context: the first word after sipdrain's own
	# options (and their values) that is not an option.  A value given
	# as --name=VALUE comes as three words ('=' breaks words).
	for ((i = 1; i < cword; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		-*)
			[[ $w == -P || $w == --pcap ]] && pcap=1
			if _sipdrain_takes_value "$ctx" "$w"; then
				# its value: the next word, or the two after '='
				if [[ ${COMP_WORDS[i + 1]-} == = ]]; then
					((i += 2))
				else
					((i++))
				fi
			fi
			;;
		*)
			[[ $ctx == global ]] && ctx=$w
			;;
		esac
	done
	# an unknown command: nothing to offer
	[[ $ctx == global || " $_sipdrain_commands " == *" $ctx "* ]] || return 0

	# A value: after an option that takes one, after '=', or --name=value
	# in one word (COMP_WORDBREAKS without '=').
	if [[ $cur == = ]]; then
		opt=$prev cur=
	elif [[ $prev == = ]] && ((cword >= 2)); then
		opt=${COMP_WORDS[cword - 2]}
	elif [[ $cur == --*=* ]]; then
		opt=${cur%%=*} cur=${cur#*=}
	elif [[ $prev == -* ]] && _sipdrain_takes_value "$ctx" "$prev"; then
		opt=$prev
	fi
	if [[ -n $opt ]]; then
		_sipdrain_takes_value "$ctx" "$opt" || return 0
		case $opt in
		--pin-dir)
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -d -- "${cur:-/sys/fs/bpf/}")) ;;
		-x | --exec-on-offline)
			COMPREPLY=($(compgen -c -- "$cur")) ;;
		*)
			COMPREPLY=($(compgen -W "$(_sipdrain_values "$opt")" -- "$cur"))
			# values with ':' (--metrics) when ':' breaks words
			declare -F __ltrim_colon_completions >/dev/null &&
				__ltrim_colon_completions "$cur"
			;;
		esac
		return 0
	fi

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_sipdrain_opts "$ctx")" -- "$cur"))
		return 0
	fi
	case $ctx in
	global)
		COMPREPLY=($(compgen -W "$_sipdrain_commands" -- "$cur")) ;;
	run | attach | detach)
		COMPREPLY=($(compgen -W "$(_sipdrain_ifaces)" -- "$cur")) ;;
	classify)
		# files; with --pcap, captures (and directories to look in)
		compopt -o filenames 2>/dev/null
		local f
		while IFS= read -r f; do
			[[ -z $pcap || -d $f || $f == *.pcap || $f == *.pcapng || $f == *.cap ]] &&
				COMPREPLY+=("$f")
		done < <(compgen -f -- "$cur")
		;;
	esac
	return 0
}
complete -F _sipdrain sipdrain

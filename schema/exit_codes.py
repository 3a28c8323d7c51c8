"""nova-manage's exit codes, one home for the engine and the commands.

0 success or nothing to do; 1 flow control (behind, drifted, refused: automation
loops on it); 2 bad input; 255 an unexpected error (nova-manage's rule since Train).
Commands that mirror a nova-manage command add its own documented codes.
"""

EXIT_OK = 0
EXIT_FLOW = 1
EXIT_USAGE = 2
EXIT_UNEXPECTED = 255

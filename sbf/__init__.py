"""The ``sbf`` command line: the layer above both the engine and the desktop app.

It turns arguments into engine calls and engine errors into one line on stderr and exit code 2;
``sbf gui`` is the only command that imports the desktop app, so Qt loads for it alone.
"""

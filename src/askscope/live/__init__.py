"""The live console (issue 14): a Q&A session's queue, pulse and alerts while it runs.

:mod:`~askscope.live.intake` replays a recorded campaign file or collects with the collectors,
storing every record through the ingestion code with a checkpoint (``live_intake``);
:mod:`~askscope.live.model` keeps threads, relations to the host, the question set Q and the
host's answers up to date post by post, by the definitions of the ``reply_trees``,
``relations`` and ``answers`` stages; :mod:`~askscope.live.console` (:class:`LiveConsole`) ranks
the queue, closes items when the host answers, computes the pulse and raises alerts, and logs
every team action in ``live_actions``. ``askscope live`` (:mod:`askscope.cli.live`) runs it with
the web app. See docs/live.md.
"""

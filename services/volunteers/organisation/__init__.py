"""The county's organisation: centre, township institutes, stations, teams and their members."""

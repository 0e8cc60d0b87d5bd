import Stockade
